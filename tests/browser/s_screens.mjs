// Part S's browser tests (run by run.mjs: each test gets {newPage, origin, shot}): the IT office's review, the meeting, the project
// page's gate checklist, the audit screen, administration. Each test sets up
// what it needs through the API (s_setup.mjs) and then drives the screens as
// the people would, waiting for elements with bounded timeouts.
import assert from 'node:assert/strict'
import { cast, expect, http, implementingProject, inOperationProject, submittedProject, sfx, user, poll } from './s_setup.mjs'

const T = 15000 // the longest wait for any one element

/** A signed-in page for one user (the harness's newPage: its own browser context,
 *  so its own sessionStorage; watched for CSP violations and uncaught errors). */
async function signedIn(newPage, origin, who) {
  const page = await newPage()
  page.setDefaultTimeout(T)
  await page.goto(origin + '/login')
  await page.fill('[data-test=username]', who.username)
  await page.fill('[data-test=password]', who.password)
  await page.click('[data-test=login-submit]')
  await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: T })
  return page
}

/** Picks an option of an Element Plus select (the select's locator, its popper-class, the option's text). */
async function choose(page, select, popper, text) {
  await select.click()
  const item = page.locator(`.${popper} .el-select-dropdown__item`, { hasText: text }).first()
  await item.click()
  await page.locator(`.el-popper.${popper}`).waitFor({ state: "hidden" })
}

async function tasksOf(u, status = 'open') {
  const r = await http('GET', `/me/tasks?status=${status}&limit=200`, undefined, u.token)
  if (r.status !== 200) throw new Error(`GET /me/tasks answered ${r.status}`)
  return r.data.items
}

export const tests = [
  {
    name: 'review: the IT office invites an expert who gives an opinion, passes; the secretary decides two cases at one meeting; the applicant sees it approved',
    async run({ newPage, origin, shot }) {
      const c = await cast()
      const title = `门禁系统升级 ${sfx()}`
      const { project, kase } = await submittedProject(c, title)
      const second = await submittedProject(c, `机房空调改造 ${sfx()}`)

      // the IT office: the case page shows the application; invite the expert
      const it = await signedIn(newPage, origin, c.it)
      await it.goto(`${origin}/review`)
      await it.locator('[data-test=case-list]').waitFor()
      await it.fill('[data-test=find-project]', String(project.id))
      await it.click('[data-test=find-submit]')
      await it.locator(`[data-test=case-${kase.id}]`).waitFor()
      await shot(it, 'review-list')
      await it.click(`[data-test=case-${kase.id}]`)
      await it.waitForURL((u) => u.pathname === `/cases/${kase.id}`)
      await it.locator('[data-test=application]').getByText(title).waitFor()
      await it.fill('[data-test=invite-user]', String(c.expert.id))
      await it.click('[data-test=invite-submit]')
      await it.locator('[data-test=experts]').getByText(`用户 #${c.expert.id}`).waitFor()
      await poll(async () => (await tasksOf(c.expert)).some((t) => t.case_id === kase.id), 10000, 'the expert\'s task')

      // a second expert declares a conflict of interest (through the API)
      await expect(http('POST', `/approvals/${kase.id}/experts`, { user_id: c.expert2.id }, c.it.token), 201)
      await expect(http('POST', `/approvals/${kase.id}/opinions`, { stance: 'support', comment: '本人参与过该系统采购', conflict_of_interest: true }, c.expert2.token), 201)

      // the expert gives an opinion on the same screen
      const ex = await signedIn(newPage, origin, c.expert)
      // one click from the to-do list into the case
      await ex.goto(`${origin}/tasks`)
      await ex.locator('[data-test=task-table] tr', { hasText: `（projects/${project.id}）` }).first().click()
      await ex.waitForURL((u) => u.pathname === `/cases/${kase.id}`)
      await ex.locator('[data-test=opinion-form]').waitFor()
      assert.equal(await ex.locator('[data-test=review-form]').count(), 0, 'an expert is not offered the review')
      assert.equal(await ex.locator('[data-test=invite-form]').count(), 0, 'an expert is not offered invitations')
      await ex.click('[data-test=stance-support]')
      await ex.fill('[data-test=opinion-comment]', '方案可行，建议立项')
      await ex.click('[data-test=opinion-submit]')
      await ex.locator('[data-test=opinions]').getByText('方案可行，建议立项').waitFor()
      await ex.locator('[data-test=opinion-form]').waitFor({ state: 'detached' })
      await ex.context().close()

      // the IT office sees the opinions (the conflict of interest marked) and passes
      await it.reload()
      await it.locator('[data-test=opinions]').getByText('方案可行，建议立项').waitFor()
      await it.locator('[data-test=coi]').first().waitFor()
      await it.locator('[data-test=tally]').getByText('支持 1').waitFor()
      await shot(it, 'review-case')
      await it.click('[data-test=review-pass]')
      await it.fill('[data-test=review-comment]', '符合年度计划，同意提交会议')
      await it.click('[data-test=review-submit]')
      await it.locator('[data-test=case-step]', { hasText: '会议决策' }).waitFor()
      await expect(http('POST', `/approvals/${second.kase.id}/review`, { outcome: 'pass', comment: '同意' }, c.it.token), 200)
      await it.context().close()
      await poll(async () => !(await tasksOf(c.it)).some((t) => t.case_id === kase.id), 10000, 'the IT office\'s task leaving')
      await poll(async () => (await tasksOf(c.secretary)).some((t) => t.case_id === kase.id), 10000, 'the secretary\'s task')

      // the secretary: one meeting, two cases (approve one, reject the other)
      const sec = await signedIn(newPage, origin, c.secretary)
      await sec.goto(`${origin}/meeting`)
      await sec.locator(`[data-test=pick-${kase.id}]`).waitFor()
      await sec.locator(`[data-test=pick-${second.kase.id}]`).waitFor()
      await sec.fill('[data-test=f-minutes_ref] input', `部长办公会纪要〔2026〕${sfx()}号`)
      await sec.click(`[data-test=pick-${kase.id}]`)
      await sec.click(`[data-test=pick-${second.kase.id}]`)
      await choose(sec, sec.locator(`[data-test=outcome-${kase.id}]`), `outcome-pop-${kase.id}`, '批准')
      await choose(sec, sec.locator(`[data-test=outcome-${second.kase.id}]`), `outcome-pop-${second.kase.id}`, '否决')
      await shot(sec, 'meeting')
      await sec.click('[data-test=record-meeting]')
      await sec.locator(`[data-test=done-${kase.id}]`).waitFor()
      await sec.locator(`[data-test=done-${second.kase.id}]`).waitFor()
      await sec.context().close()

      // the applicant sees the project approved, the other rejected
      const ap = await signedIn(newPage, origin, c.applicant)
      await ap.goto(`${origin}/projects/${project.id}`)
      await ap.locator('[data-test=project-state]', { hasText: '已立项' }).waitFor()
      await ap.locator('[data-test=timeline]').getByText('会议批准').waitFor()
      await shot(ap, 'project-approved')
      await ap.goto(`${origin}/projects/${second.project.id}`)
      await ap.locator('[data-test=project-state]', { hasText: '未通过' }).waitFor()
      await ap.context().close()
      await poll(async () => !(await tasksOf(c.secretary)).some((t) => t.case_id === kase.id), 10000, 'the secretary\'s task leaving')
    },
  },
  {
    name: 'project page: an acceptance request the gate refuses shows what is still needed as a checklist',
    async run({ newPage, origin, shot }) {
      const c = await cast()
      const project = await implementingProject(c, `一卡通平台 ${sfx()}`)
      const ap = await signedIn(newPage, origin, c.applicant)
      await ap.goto(`${origin}/projects/${project.id}?tab=deliverables`)
      await ap.locator('[data-test=deliverables] li').first().waitFor()
      assert.equal(await ap.locator('[data-test=deliverables] li.ok').count(), 0)
      await ap.goto(`${origin}/projects/${project.id}?tab=acceptance`)
      await ap.click('[data-test=request-acceptance]')
      const list = ap.locator('[data-test=gate-checklist]')
      await list.waitFor()
      for (const m of ['install_manual', 'user_manual', 'admin_manual', 'developer_manual', 'test_report', 'training_record', 'approved_contract']) {
        await list.locator(`[data-missing=${m}]`).waitFor()
      }
      await list.getByText('里程碑完成：设备到货').waitFor()
      await shot(ap, 'gate-checklist')
      await ap.context().close()
      // an IT office user is not offered the applicant's request
      const it = await signedIn(newPage, origin, c.it)
      await it.goto(`${origin}/projects/${project.id}?tab=acceptance`)
      await it.locator('[data-test=project-state]').waitFor()
      assert.equal(await it.locator('[data-test=request-acceptance]').count(), 0)
      await it.context().close()
    },
  },
  {
    name: 'project page of a system in operation: deliverables checked, payments against the contract in 元, an over-contract payment explained, an information request answered',
    async run({ newPage, origin, shot }) {
      const c = await cast()
      const { project, contract } = await inOperationProject(c, `智慧后勤平台 ${sfx()}`)
      const ap = await signedIn(newPage, origin, c.applicant)
      await ap.goto(`${origin}/projects/${project.id}`)
      await ap.locator('[data-test=project-state]', { hasText: '运行中' }).waitFor()
      await ap.locator('[data-test=timeline]').getByText('上线运行').waitFor()
      await shot(ap, 'project-overview')
      await ap.setViewportSize({ width: 390, height: 844 })
      await ap.locator('[data-test=timeline]').waitFor()
      await shot(ap, 'project-phone')
      await ap.setViewportSize({ width: 1280, height: 800 })
      await ap.goto(`${origin}/projects/${project.id}?tab=deliverables`)
      await ap.locator('[data-test=deliverables] li.ok').nth(5).waitFor()
      await ap.goto(`${origin}/projects/${project.id}?tab=contracts`)
      const row = ap.locator('[data-test=contracts] tr', { hasText: contract.contract_no }).first()
      await row.getByText('5,000.00 元').waitFor()
      // a payment in 元 through the form: 1,234.56 元 is 123456 cents
      const form = ap.locator('[data-test=payment-form]')
      await choose(ap, form.locator('[data-test=f-contract_id] .el-select'), 'pop-contract_id', contract.contract_no)
      await form.locator('[data-test=f-amount_cents] input').fill('1234.56')
      await form.locator('[data-test=f-paid_at] input').fill('2026-11-30 10:00')
      await form.locator('[data-test=f-paid_at] input').press('Enter')
      await form.locator('[data-test=f-voucher_no] input').fill(`PZ-${sfx()}`)
      await form.locator('[data-test=submit]').click()
      await row.getByText('6,234.56 元').waitFor()
      const paid = await expect(http('GET', `/contracts/${contract.id}`, undefined, c.applicant.token), 200)
      assert.equal(paid.paid_cents, 623456)
      // more than the contract has left: explained with the amounts
      await choose(ap, form.locator('[data-test=f-contract_id] .el-select'), 'pop-contract_id', contract.contract_no)
      await form.locator('[data-test=f-amount_cents] input').fill('10000')
      await form.locator('[data-test=f-paid_at] input').fill('2026-11-30 11:00')
      await form.locator('[data-test=f-paid_at] input').press('Enter')
      await form.locator('[data-test=f-voucher_no] input').fill(`PZ-${sfx()}`)
      await form.locator('[data-test=submit]').click()
      await form.locator('[data-test=problem]').getByText('尚可支付 5,765.44 元').waitFor()
      await shot(ap, 'project-contracts')
      // the department answers the IT office's information request
      await ap.goto(`${origin}/projects/${project.id}?tab=supervision`)
      await ap.locator('button', { hasText: '答复' }).first().click()
      await ap.locator('[data-test=f-answer] textarea').fill('近三个月日均访问 1200 人次')
      await ap.locator('button', { hasText: '提交答复' }).click()
      await ap.getByText('近三个月日均访问 1200 人次').waitFor()
      await shot(ap, 'project-supervision')
      await ap.context().close()
      // the IT office's view of the system in operation: the evaluation's components as a chart
      const today = new Date().toISOString().slice(0, 10)
      await expect(http('POST', '/metrics/usage', { project_id: project.id, date: today, active_users: 320, requests: 5400, availability_percent: 99.5, incidents: 0 }, c.it.token), 201)
      const it = await signedIn(newPage, origin, c.it)
      await it.goto(`${origin}/operations?tab=evaluation&project_id=${project.id}`)
      await it.locator('[data-test=score]').waitFor()
      await it.locator('[data-test=components-chart] rect').first().waitFor()
      await shot(it, 'operations-evaluation')
      await it.goto(`${origin}/operations?tab=backups`)
      await it.locator('[data-test=stale-backups]').waitFor()
      await it.context().close()
    },
  },
  {
    name: 'audit: an auditor searches the log and verifies the chain; the checkpoint and key are shown',
    async run({ newPage, origin, shot }) {
      const auditor = await user(['auditor'])
      const page = await signedIn(newPage, origin, auditor)
      await page.goto(`${origin}/audit`)
      await page.locator('[data-test=public-key]').waitFor()
      await page.fill('[data-test=q-type]', 'itgov.account.user.')
      await page.click('[data-test=q-submit]')
      await page.locator('[data-test=audit-list]').getByText('itgov.account.user.created').first().waitFor()
      await page.click('[data-test=verify]')
      await page.locator('[data-test=verdict]').getByText('日志完整').waitFor({ timeout: 120000 }) // the whole chain: long after the black-box suite
      await shot(page, 'audit')
      await page.context().close()
    },
  },
  {
    name: 'administration: an admin sees users and roles, ends a session; the auditor is not offered changes',
    async run({ newPage, origin, shot }) {
      const adm = await user(['admin'])
      const victim = await user(['applicant'])
      // the victim is signed in in a browser too (its newest session)
      const vp = await signedIn(newPage, origin, victim)
      await vp.locator('[data-test=user-menu]').waitFor()
      const page = await signedIn(newPage, origin, adm)
      await page.goto(`${origin}/admin?tab=users`)
      await page.locator('[data-test=user-admin]').waitFor()
      await page.locator('[data-test=toggle-admin]').waitFor()
      await shot(page, 'admin-users')
      await page.goto(`${origin}/admin?tab=sessions`)
      const row = page.locator('[data-test=sessions] tr', { hasText: victim.username }).first()
      await row.waitFor()
      await row.locator('button', { hasText: '强制下线' }).click()
      await page.locator('.el-message-box button', { hasText: '下线' }).click()
      await page.locator('.el-message', { hasText: '已下线' }).first().waitFor()
      // that browser is sent to sign-in at its next request; the victim's other session lives on
      await vp.locator('.shell-nav a', { hasText: '项目申报' }).click()
      await vp.waitForURL((u) => u.pathname === '/login')
      const r = await http('GET', '/me', undefined, victim.token)
      assert.equal(r.status, 200, 'only the chosen session ended')
      await page.context().close()
      const aud = await user(['auditor'])
      const ap = await signedIn(newPage, origin, aud)
      await ap.goto(`${origin}/admin?tab=users`)
      await ap.locator('[data-test=user-admin]').waitFor()
      assert.equal(await ap.locator('[data-test=new-user]').count(), 0, 'the auditor is not offered a new user')
      assert.equal(await ap.locator('[data-test=toggle-admin]').count(), 0, 'nor disable')
      await ap.context().close()
    },
  },
]
