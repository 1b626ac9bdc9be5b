// problem+json (RFC 9457) as the screens show it: a message in Chinese, the
// field errors by field name, a gate's `missing` list.

const CODES = {
  unauthorized: '登录已失效，请重新登录',
  forbidden: '您的角色无权执行此操作',
  not_found: '记录不存在或您无权查看',
  invalid_json: '提交的数据格式有误',
  validation_failed: '填写有误，请检查标红的字段',
  conflict: '与已有记录冲突（编号已被使用，或已提交过）',
  invalid_state: '当前状态下不能执行此操作',
  project_suspended: '项目已暂停，暂停期间不能执行此操作',
  precondition_failed: '记录已被他人修改，请刷新后重试',
  precondition_required: '缺少版本信息，请刷新后重试',
  last_admin: '不能停用或撤销最后一位启用的系统管理员',
  acceptance_blocked: '尚不满足申请验收的条件',
  payment_blocked: '尚不满足付款的条件',
  golive_blocked: '尚不满足上线的条件',
  over_contract: '付款金额超出合同剩余可付金额',
  login_locked: '尝试次数过多，请稍后再试',
  unavailable: '服务暂时不可用，请稍后再试',
  bad_gateway: '服务暂时不可用，请稍后再试',
  gateway_timeout: '服务响应超时，请稍后再试',
  payload_too_large: '提交的内容过大',
}

/** The problem document carried by an error thrown by the API client (or null). */
export function problemOf(err) {
  if (!err) return null
  for (const c of [err.problem, err.body, err.data, err.response && err.response.body, err]) {
    if (c && typeof c === 'object' && typeof c.code === 'string') return c
  }
  return null
}

/** A one-line message in Chinese. */
export function problemMessage(err) {
  const p = problemOf(err)
  if (!p) return (err && err.message) ? `请求失败：${err.message}` : '请求失败，请稍后再试'
  let msg = CODES[p.code] || (p.detail ? p.detail : `请求失败（${p.code}）`)
  if (p.code === 'invalid_state' && p.state) msg += `（当前状态：${p.state}）`
  return msg
}

/** { field: message } from `errors[]`; nested names (`items[0].code`) are kept as given,
 *  and also folded onto their first segment so a form item named `items` shows them. */
export function fieldErrors(err) {
  const p = problemOf(err)
  const out = {}
  if (!p || !Array.isArray(p.errors)) return out
  for (const e of p.errors) {
    if (!e || !e.field) continue
    out[e.field] = out[e.field] ? `${out[e.field]}；${e.message}` : e.message
    const head = String(e.field).split(/[.[]/)[0]
    if (head !== e.field) out[head] = out[head] ? `${out[head]}；${e.message}` : e.message
  }
  return out
}

/** A gate's `missing` list (acceptance_blocked, payment_blocked, golive_blocked, ...), or []. */
export function missingOf(err) {
  const p = problemOf(err)
  return p && Array.isArray(p.missing) ? p.missing : []
}
