// Part S's browser tests: set-up through the API (node's fetch against the
// gateway, ITGOV_TEST_BASE), so each test drives only the screens it is about.
const BASE = process.env.ITGOV_TEST_BASE // http://127.0.0.1:<port>/api/v1
let seq = 0
export const sfx = () => `${Date.now().toString(36)}${(seq++).toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`

export async function http(method, path, body, token, headers = {}) {
  const h = { Accept: 'application/json', ...headers }
  if (token) h.Authorization = `Bearer ${token}`
  if (body !== undefined) h['Content-Type'] = 'application/json'
  const r = await fetch(BASE + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await r.text()
  let data = null
  try { data = text ? JSON.parse(text) : null } catch { data = text }
  return { status: r.status, data, etag: r.headers.get('etag') }
}

export async function expect(p, status) {
  const r = await p
  if (r.status !== status) throw new Error(`expected HTTP ${status}, got ${r.status}: ${JSON.stringify(r.data)}`)
  return r.data
}

export async function poll(fn, timeoutMs, what) {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

let adminToken = null
export async function admin() {
  if (!adminToken) {
    const d = await expect(http('POST', '/sessions', { username: 'admin', password: process.env.ITGOV_TEST_ADMIN_PASSWORD }), 201)
    adminToken = d.token
  }
  return adminToken
}

export async function department(kind = 'department') {
  const s = sfx()
  return expect(http('POST', '/departments', { code: `S${s}`.slice(0, 32), name: `测试部门${s}`, kind }, await admin()), 201)
}

let itoDept = null
/** A user with these roles (in `dept`, or the IT office's department), with a password and a token. */
export async function user(roles, dept) {
  if (!dept) {
    if (!itoDept) itoDept = (await department('it_office')).id
    dept = itoDept
  }
  const s = sfx()
  const password = `Pw-${s}-long-enough`
  const u = await expect(http('POST', '/users', {
    username: `s${s}`, display_name: `用户${s}`, employee_id: `E${s}`, department_id: dept, roles, password,
  }, await admin()), 201)
  const sess = await expect(http('POST', '/sessions', { username: u.username, password }), 201)
  return { ...u, password, token: sess.token }
}

/** One user per role (the applicant in a department of its own). */
export async function cast() {
  const dept = (await department()).id
  const [applicant, it, expert, expert2, secretary, auditor] = await Promise.all([
    user(['applicant'], dept), user(['it_office']), user(['expert']), user(['expert']), user(['secretary']), user(['auditor']),
  ])
  return { dept, applicant, it, expert, expert2, secretary, auditor }
}

export async function openCase(subject, token) {
  return poll(async () => {
    const r = await http('GET', `/approvals?subject=${encodeURIComponent(subject)}&state=open`, undefined, token)
    return r.status === 200 && r.data.items.length ? r.data.items[0] : null
  }, 10000, `an open case for ${subject}`)
}

export async function submittedProject(c, title) {
  const p = await expect(http('POST', '/projects', {
    title, kind: 'upgrade', summary: '更换老旧门禁控制器，统一接入校园一卡通', budget_cents: 1500000, serves_external_units: false,
  }, c.applicant.token), 201)
  await expect(http('POST', `/projects/${p.id}/submit`, undefined, c.applicant.token), 200)
  const kase = await openCase(`projects/${p.id}`, c.it.token)
  return { project: p, kase }
}

export async function waitState(id, state, token) {
  return poll(async () => {
    const r = await http('GET', `/projects/${id}`, undefined, token)
    return r.status === 200 && r.data.state === state ? r.data : null
  }, 10000, `project ${id} becoming ${state}`)
}

/** A project through review and decision, then planned: `implementing`, nothing delivered. */
export async function implementingProject(c, title) {
  const { project, kase } = await submittedProject(c, title)
  await expect(http('POST', `/approvals/${kase.id}/review`, { outcome: 'pass', comment: '同意' }, c.it.token), 200)
  await expect(http('POST', `/approvals/${kase.id}/decision`, {
    meeting: 'minister_office', meeting_date: '2026-03-01', minutes_ref: '会议纪要〔2026〕3号', outcome: 'approve',
  }, c.secretary.token), 200)
  await waitState(project.id, 'approved', c.it.token)
  const r = await http('PUT', `/projects/${project.id}/implementation-plan`, {
    goals: '完成门禁控制器更换与一卡通对接', team: [{ name: '张三', role: '项目经理', duty: '统筹实施' }],
    milestones: [{ name: '设备到货', due_date: '2030-06-30' }],
  }, c.applicant.token)
  if (r.status !== 200 && r.status !== 201) throw new Error(`implementation plan: HTTP ${r.status} ${JSON.stringify(r.data)}`)
  await waitState(project.id, 'implementing', c.it.token)
  return project
}

const KINDS = ['install_manual', 'user_manual', 'admin_manual', 'developer_manual', 'test_report', 'training_record']

async function reviewOpenCase(subject, c, comment) {
  const k = await openCase(subject, c.it.token)
  await expect(http('POST', `/approvals/${k.id}/review`, { outcome: 'pass', comment }, c.it.token), 200)
}

/** implementingProject() walked on: an approved contract, the six deliverables, the
 *  milestones done, accepted, its asset, a payment, gone live; then a backup, a spot
 *  check, an information request and a rectification order. Returns {project, contract}. */
export async function inOperationProject(c, title) {
  const { createHash } = await import('node:crypto')
  const project = await implementingProject(c, title)
  const pid = project.id
  const contract = await expect(http('POST', `/projects/${pid}/contracts`, {
    contract_no: `HT-${sfx()}`, vendor: '某某信息技术有限公司', amount_cents: 1200000,
    signed_at: '2026-04-01T08:00:00Z', procurement_method: 'public_tender',
  }, c.applicant.token), 201)
  await reviewOpenCase(`contracts/${contract.id}`, c, '合同条款齐全')
  await poll(async () => (await http('GET', `/contracts/${contract.id}`, undefined, c.it.token)).data.status === 'approved', 10000, 'the contract approved')
  for (const kind of KINDS) {
    await expect(http('POST', `/projects/${pid}/deliverables`, {
      kind, title: `${kind} 文档`, uri: `https://docs.example.edu/${kind}/${sfx()}.pdf`,
      sha256: createHash('sha256').update(`${kind} ${sfx()}`).digest('hex'),
    }, c.applicant.token), 201)
  }
  const ms = await expect(http('GET', `/projects/${pid}/milestones?limit=200`, undefined, c.applicant.token), 200)
  for (const m of ms.items) {
    await expect(http('POST', `/projects/${pid}/milestones/${m.id}/complete`, { completed_at: '2026-06-01T08:00:00Z', note: '按期完成' }, c.applicant.token), 200)
  }
  await expect(http('POST', `/projects/${pid}/acceptance-request`, {}, c.applicant.token), 200)
  await reviewOpenCase(`projects/${pid}`, c, '验收通过')
  await waitState(pid, 'accepted', c.it.token)
  await expect(http('POST', `/projects/${pid}/asset`, {
    asset_no: `ZC-${sfx()}`, value_cents: 1234500, registered_at: '2026-11-01T08:00:00Z', custodian: '后勤保障部信息中心 张伟',
  }, c.applicant.token), 201)
  await expect(http('POST', `/projects/${pid}/payments`, {
    contract_id: contract.id, amount_cents: 500000, paid_at: '2026-11-20T09:00:00Z', voucher_no: `PZ-${sfx()}`,
  }, c.applicant.token), 201)
  await expect(http('POST', `/projects/${pid}/go-live`, {
    deployment_plan_uri: 'https://docs.example.edu/deploy.pdf', emergency_plan_uri: 'https://docs.example.edu/emergency.pdf',
    test_environment_report_uri: 'https://docs.example.edu/test-env.pdf', test_passed: true, planned_at: '2026-11-25T08:00:00Z',
  }, c.applicant.token), 200)
  await waitState(pid, 'in_operation', c.it.token)
  await expect(http('POST', `/projects/${pid}/backups`, {
    taken_at: '2026-11-28T02:00:00Z', method: 'disaster_recovery', location: '第二数据中心', restore_tested_at: '2026-11-28T06:00:00Z',
  }, c.applicant.token), 201)
  await expect(http('POST', `/projects/${pid}/spot-checks`, { checked_at: '2026-11-29T03:00:00Z', result: 'pass', findings: '运行正常' }, c.it.token), 201)
  await expect(http('POST', `/projects/${pid}/info-requests`, { question: '请提供近三个月的访问量统计', due_date: '2030-12-31' }, c.it.token), 201)
  await expect(http('POST', `/projects/${pid}/rectifications`, {
    issue: '管理员账号未定期复核', required_action: '完成账号复核并提交记录', deadline: '2030-12-31T08:00:00Z',
  }, c.it.token), 201)
  return { project, contract }
}
