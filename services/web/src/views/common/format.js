// Shared by part S's screens: labels in Chinese, dates in Asia/Shanghai,
// money in 元 (the API carries integer cents).

const TZ = 'Asia/Shanghai'

const instantFmt = new Intl.DateTimeFormat('zh-CN', {
  timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', hour12: false,
})
const dayFmt = new Intl.DateTimeFormat('zh-CN', {
  timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit',
})

function parts(fmt, d) {
  const o = {}
  for (const p of fmt.formatToParts(d)) o[p.type] = p.value
  return o
}

/** An RFC 3339 instant as "2026-11-30 19:47" in Asia/Shanghai ('—' when empty). */
export function fmtInstant(s) {
  if (!s) return '—'
  const d = new Date(s)
  if (Number.isNaN(d.getTime())) return String(s)
  const o = parts(instantFmt, d)
  const hour = o.hour === '24' ? '00' : o.hour
  return `${o.year}-${o.month}-${o.day} ${hour}:${o.minute}`
}

/** The calendar day of an instant in Asia/Shanghai, YYYY-MM-DD. */
export function shanghaiDay(s) {
  const o = parts(dayFmt, s ? new Date(s) : new Date())
  return `${o.year}-${o.month}-${o.day}`
}

/** A YYYY-MM-DD date as it is (dates carry no zone). */
export function fmtDate(s) {
  return s || '—'
}

/** A wall-clock time in Asia/Shanghai ("YYYY-MM-DD HH:mm[:ss]") as an RFC 3339 UTC instant. */
export function shanghaiToUtc(wall) {
  if (!wall) return null
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(:\d{2})?$/.exec(String(wall).trim())
  if (!m) return null
  const d = new Date(`${m[1]}T${m[2]}${m[3] || ':00'}+08:00`)
  if (Number.isNaN(d.getTime())) return null
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Now as a wall-clock string in Asia/Shanghai ("YYYY-MM-DD HH:mm:ss"). */
export function shanghaiNow() {
  const o = parts(new Intl.DateTimeFormat('zh-CN', {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }), new Date())
  const hour = o.hour === '24' ? '00' : o.hour
  return `${o.year}-${o.month}-${o.day} ${hour}:${o.minute}:${o.second}`
}

/** Integer cents as "12,345.67 元" (exact: no floating point). */
export function yuan(cents) {
  if (cents === null || cents === undefined || cents === '') return '—'
  let n = BigInt(cents)
  const neg = n < 0n
  if (neg) n = -n
  const whole = (n / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const frac = (n % 100n).toString().padStart(2, '0')
  return `${neg ? '-' : ''}${whole}.${frac} 元`
}

/** Integer cents as the amount typed in a form, "1234.50" (no grouping, no unit). */
export function centsToYuan(c) {
  if (c === null || c === undefined) return ''
  const n = BigInt(c)
  return `${n / 100n}.${(n % 100n).toString().padStart(2, '0')}`
}

/** "1234.5" (元) as integer cents, or null when it is not an amount with at most two decimals. */
export function parseYuan(s) {
  const t = String(s ?? '').replace(/[,，\s]/g, '').replace(/元$/, '')
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(t)
  if (!m) return null
  return Number(BigInt(m[1]) * 100n + BigInt((m[2] || '').padEnd(2, '0')))
}

function labeller(map) {
  return (k) => (k === null || k === undefined ? '—' : (map[k] ?? k))
}

export const ROLES = {
  admin: '系统管理员', it_office: '节能与信息化办公室', applicant: '申报人',
  expert: '评审专家', secretary: '会议秘书', auditor: '审计员',
}
export const roleLabel = labeller(ROLES)

export const PROJECT_STATES = {
  draft: '草稿', under_review: '审核中', returned: '已退回', awaiting_decision: '待会议决策',
  approved: '已立项', rejected: '未通过', implementing: '实施中', acceptance_review: '验收审核中',
  accepted: '已验收', in_operation: '运行中', suspended: '已暂停', terminated: '已终止',
}
export const projectStateLabel = labeller(PROJECT_STATES)
export const PROJECT_KINDS = { new_system: '新建系统', upgrade: '升级改造', hardware: '硬件购置', procurement: '采购' }
export const projectKindLabel = labeller(PROJECT_KINDS)
export const caseKindLabel = labeller({
  initiation: '立项', plan: '年度计划', contract: '合同', acceptance: '验收', change: '变更', escalation: '升级处理',
})
export const stepLabel = labeller({ review: '办公室审核', decision: '会议决策', closed: '已结束' })
export const caseOutcomeLabel = labeller({
  approved: '通过', rejected: '否决', returned: '退回', continued: '继续整改',
  suspended: '暂停', terminated: '终止', resumed: '恢复',
})
export const reviewOutcomeLabel = labeller({
  pass: '通过', return: '退回修改', reject: '否决', reclassify_major: '改为重大变更',
})
export const decisionOutcomeLabel = labeller({
  approve: '批准', reject: '否决', continue: '继续整改', suspend: '暂停项目', terminate: '终止项目', resume: '恢复项目',
})
export const meetingLabel = labeller({ minister_office: '部长办公会', joint_meeting: '联席会议' })
export const stanceLabel = labeller({ support: '支持', oppose: '反对', abstain: '弃权' })
export const variantLabel = labeller({
  general: '一般变更', major: '重大变更', rectification: '整改逾期', resume: '恢复申请',
})

export const DELIVERABLE_KINDS = ['install_manual', 'user_manual', 'admin_manual', 'developer_manual', 'test_report', 'training_record']
export const deliverableKindLabel = labeller({
  install_manual: '安装手册', user_manual: '用户手册', admin_manual: '管理员手册',
  developer_manual: '开发手册', test_report: '测试报告', training_record: '培训记录',
})
export const procurementLabel = labeller({
  public_tender: '公开招标', competitive_negotiation: '竞争性谈判', single_source: '单一来源',
  inquiry: '询价', framework_agreement: '框架协议',
})
export const contractStatusLabel = labeller({ pending_review: '待审核', approved: '已通过', rejected: '已否决' })
export const changeStatusLabel = labeller({
  pending: '待审核', awaiting_decision: '待会议决策', approved: '已批准', rejected: '已否决', implemented: '已实施',
})
export const changeLevelLabel = labeller({ general: '一般变更', major: '重大变更' })
export const backupMethodLabel = labeller({ disaster_recovery: '容灾备份', storage_media: '存储介质' })
export const spotResultLabel = labeller({ pass: '合格', issues_found: '发现问题' })
export const rectStatusLabel = labeller({ open: '待整改', responded: '已答复', overdue: '已逾期', closed: '已关闭' })
export const infoStatusLabel = labeller({ open: '待答复', answered: '已答复', overdue: '已逾期' })
export const deptKindLabel = labeller({ department: '业务部门', it_office: '信息化管理部门', external: '外部单位' })
export const findingKindLabel = labeller({
  dormant: '长期未登录', admin_outside_it_office: '信息化办公室以外的管理员',
  it_office_role_outside_it_office: '信息化办公室以外的办公室角色', shared_account: '疑似共用账号',
  system_account_holder_disabled: '系统账号持有人已停用',
})
export const accessActionLabel = labeller({ keep: '保留', disable: '停用', change_roles: '调整角色' })
export const actionLabel = labeller({
  create: '创建', submit: '提交申请', edit: '修改', review_pass: '办公室审核通过', review_return: '办公室退回',
  review_reject: '办公室否决', decide_approve: '会议批准', decide_reject: '会议否决', plan: '提交实施方案',
  request_acceptance: '申请验收', acceptance_pass: '验收通过', acceptance_return: '验收退回',
  go_live: '上线运行', suspend: '暂停', terminate: '终止', resume: '恢复', approve: '批准', reject: '否决',
  reclassify: '改为重大变更', implemented: '实施完成',
})

/** What a gate's `missing` entry means, in words. */
export function missingLabel(m, milestones = []) {
  const k = {
    approved_contract: '至少一份审核通过的合同', acceptance: '项目通过验收', asset: '资产登记',
    deployment_plan_uri: '部署方案（链接）', emergency_plan_uri: '应急预案（链接）',
    test_environment_report_uri: '测试环境报告（链接）', test_passed: '测试已通过',
    planned_at: '计划上线时间', serves_external_units: '项目须服务校外单位',
  }
  if (k[m]) return k[m]
  if (DELIVERABLE_KINDS.includes(m)) return `交付物：${deliverableKindLabel(m)}`
  const ms = /^milestone:(\d+)$/.exec(m)
  if (ms) {
    const found = milestones.find((x) => String(x.id) === ms[1])
    return `里程碑完成：${found ? found.name : '#' + ms[1]}`
  }
  return m
}
