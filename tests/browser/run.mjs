// Browser tests of the web console (services/web): Debian's chromium, headless,
// driven by playwright-core, against the stack tests/run.sh started (through
// the gateway: ITGOV_TEST_BASE = http://127.0.0.1:<port>/api/v1; the admin's
// password in ITGOV_TEST_ADMIN_PASSWORD). Talks only to 127.0.0.1.
//
//   node tests/browser/run.mjs [name-substring...]
//
// Every wait is for an element or an answer, bounded (no sleeps). Every page
// is watched for CSP violations (securitypolicyviolation events and console
// reports) and uncaught errors: any fails the test it happened in.
// Screenshots of the main screens go to services/web/docs/ (committed).
// The first page's JavaScript is measured gzip-compressed (at most 400 KB).
// Exits non-zero when a test failed; prints `N passed, M failed`.
import { chromium } from 'playwright-core'
import { gzipSync } from 'node:zlib'
import { mkdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const DOCS = path.resolve(HERE, '../../services/web/docs')
const API = (process.env.ITGOV_TEST_BASE || '').replace(/\/$/, '')
if (!/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/.test(API)) {
  console.error('ITGOV_TEST_BASE must be http://127.0.0.1:<port>/api/v1 (tests/run.sh sets it)')
  process.exit(2)
}
const ROOT = API.slice(0, -'/api/v1'.length)
const ADMIN_PW = process.env.ITGOV_TEST_ADMIN_PASSWORD || ''
const CHROMIUM = process.env.ITGOV_TEST_CHROMIUM || '/usr/bin/chromium'
const T = 15000 // bound of each wait (ms)
const JS_BUDGET = 400 * 1024

// ---------------------------------------------------------------- API helpers

async function call(method, p, body, token, headers = {}) {
  const h = { ...headers }
  if (token) h.Authorization = `Bearer ${token}`
  if (body !== undefined) h['Content-Type'] = 'application/json'
  const r = await fetch(API + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await r.text()
  let data = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = text
  }
  return { status: r.status, data, etag: r.headers.get('etag') }
}

async function expectCall(status, ...args) {
  const r = await call(...args)
  if (r.status !== status) throw new Error(`${args[0]} ${args[1]}: ${r.status}, expected ${status}: ${JSON.stringify(r.data)}`)
  return r
}

const sfx = () => randomBytes(4).toString('hex')
let adminToken = null
let deptId = null

async function admin() {
  if (!adminToken) adminToken = (await expectCall(201, 'POST', '/sessions', { username: 'admin', password: ADMIN_PW })).data.token
  return adminToken
}

async function department() {
  if (!deptId) {
    const s = sfx()
    deptId = (await expectCall(201, 'POST', '/departments', { code: 'W' + s.toUpperCase(), name: `浏览器测试部门${s}`, kind: 'department' }, await admin())).data.id
  }
  return deptId
}

async function makeUser(roles, dept) {
  const s = sfx()
  const password = 'Pw-' + randomBytes(8).toString('hex')
  const body = {
    username: 'br' + s,
    display_name: `测试用户${s}`,
    employee_id: 'B' + s,
    department_id: dept || (await department()),
    roles,
    password,
  }
  const u = (await expectCall(201, 'POST', '/users', body, await admin())).data
  return { ...u, password }
}

async function apiLogin(u) {
  return (await expectCall(201, 'POST', '/sessions', { username: u.username, password: u.password })).data.token
}

// ---------------------------------------------------------------- harness

const tests = []
const test = (name, fn) => tests.push({ name, fn })
let browser

// A fresh browser context (own sessionStorage) watched for CSP violations,
// uncaught errors and failed requests to anything but 127.0.0.1.
async function newPage(t, viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  t.contexts.push(ctx)
  const page = await ctx.newPage()
  page.setDefaultTimeout(T)
  page.setDefaultNavigationTimeout(T)
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP-VIOLATION ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`)
    })
  })
  page.on('console', (m) => {
    const text = m.text()
    if (/CSP-VIOLATION|Content Security Policy/i.test(text)) t.problems.push(`CSP: ${text}`)
  })
  page.on('pageerror', (e) => t.problems.push(`uncaught: ${e.message}`))
  page.on('request', (r) => {
    const u = r.url()
    if (!u.startsWith(ROOT + '/') && !u.startsWith('data:') && !u.startsWith('about:')) t.problems.push(`request off the gateway: ${u}`)
  })
  return page
}

async function shot(page, name) {
  mkdirSync(DOCS, { recursive: true })
  // let element transitions finish: wait until no animation runs (bounded)
  await page
    .waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'), null, { timeout: 3000 })
    .catch(() => {})
  // transient toasts would cover the screen
  await page.evaluate(() => document.querySelectorAll('.el-message').forEach((e) => e.remove()))
  await page.screenshot({ path: path.join(DOCS, name + '.png') })
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg)
}

async function signIn(page, u, { expectPath } = {}) {
  await inp(page, 'username').fill(u.username)
  await inp(page, 'password').fill(u.password)
  await page.locator('[data-test=login-submit]').click()
  await page.waitForURL((url) => !url.pathname.startsWith('/login'))
  if (expectPath) await page.waitForURL((url) => url.pathname + url.search === expectPath)
  await page.locator('[data-test=user-menu]').waitFor()
}

async function gotoSignIn(page) {
  await page.goto(ROOT + '/')
  await page.waitForURL(/\/login/)
  await inp(page, 'username').waitFor()
}

// the text field of an ElInput with data-test=name (Element Plus puts the
// attribute on the <input>/<textarea> itself)
const inp = (page, name) =>
  page.locator(`input[data-test=${name}], textarea[data-test=${name}], [data-test=${name}] input, [data-test=${name}] textarea`).first()

// Element Plus message boxes/toasts
const toast = (page, text) => page.locator('.el-message').filter({ hasText: text }).first()

// ---------------------------------------------------------------- tests

test('the first page loads at most 400 KB of gzip-compressed JavaScript', async (t) => {
  const page = await newPage(t)
  const js = new Map()
  page.on('response', async (r) => {
    const ct = r.headers()['content-type'] || ''
    if (ct.includes('javascript')) js.set(r.url(), r)
  })
  await gotoSignIn(page)
  await page.waitForLoadState('networkidle')
  let raw = 0
  let gz = 0
  for (const r of js.values()) {
    const b = await r.body()
    raw += b.length
    gz += gzipSync(b, { level: 9 }).length
  }
  t.note(`first page (sign-in): ${js.size} scripts, ${(raw / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzip`)
  assert(gz <= JS_BUDGET, `first page JS is ${gz} bytes gzip, over ${JS_BUDGET}`)
  // the headers the gateway gives the console
  const res = await page.request.get(ROOT + '/', { headers: { Accept: 'text/html' } })
  const h = res.headers()
  assert(/default-src 'self'/.test(h['content-security-policy'] || '') && /script-src 'self'(;|$)/.test(h['content-security-policy']), `CSP: ${h['content-security-policy']}`)
  assert(/frame-ancestors 'none'/.test(h['content-security-policy']), 'no frame-ancestors')
  assert(h['x-content-type-options'] === 'nosniff' && h['referrer-policy'] === 'no-referrer', JSON.stringify(h))
  assert(/no-cache/.test(h['cache-control'] || ''), 'index.html must not be cached')
  await shot(page, 'sign-in')
  // the watch sees violations: an inline script is refused and reported
  const report = page.waitForEvent('console', { predicate: (m) => /CSP-VIOLATION/.test(m.text()), timeout: T })
  await page.evaluate(() => {
    const s = document.createElement('script')
    s.textContent = 'window.__inlineRan = true'
    document.body.appendChild(s)
  })
  await report
  assert(t.problems.some((x) => x.includes('CSP')), 'an inline script caused no CSP report')
  assert((await page.evaluate(() => window.__inlineRan)) !== true, 'an inline script ran')
  t.problems.length = 0
})

test('an applicant drafts, edits and submits a project; similar projects are shown first', async (t) => {
  const u = await makeUser(['applicant'])
  const token = await apiLogin(u)
  // an earlier project of the department with the same title: "similar"
  const title = `智慧校园门户升级 ${sfx()}`
  const earlier = (await expectCall(201, 'POST', '/projects', { title, kind: 'upgrade', summary: '旧的申报', budget_cents: 100000 }, token)).data
  await expectCall(200, 'POST', `/projects/${earlier.id}/submit`, undefined, token)

  const page = await newPage(t)
  await gotoSignIn(page)
  await signIn(page, u)
  await page.waitForURL(/\/tasks/)
  await page.locator('[data-test=task-table]').waitFor()
  await shot(page, 'tasks')

  await page.locator('.shell-nav a', { hasText: '项目申报' }).click()
  await page.locator('[data-test=project-new]').click()
  await page.waitForURL(/\/projects\/new/)
  await inp(page, 'f-title').fill(title)
  await inp(page, 'f-budget').fill('12.5x')
  await page.locator('[data-test=save]').click()
  // a bad amount is named on its field, nothing sent
  await page.locator('.el-form-item.is-error', { hasText: '预算' }).waitFor()
  await inp(page, 'f-budget').fill('125000.50')
  await page.locator('[data-test=save]').click()
  await page.waitForURL(/\/projects\/\d+\/edit/)
  const id = Number(page.url().match(/projects\/(\d+)\/edit/)[1])
  let p = (await expectCall(200, 'GET', `/projects/${id}`, undefined, token)).data
  assert(p.state === 'draft' && p.budget_cents === 12500050 && p.title === title, JSON.stringify(p))

  // submitting with an empty summary: the API's errors[] on the field
  await page.locator('[data-test=submit]').click()
  await page.locator('[data-test=similar-dialog]').waitFor()
  await page.locator('[data-test=similar-table]').getByText(title).first().waitFor()
  await shot(page, 'project-similar')
  await page.locator('[data-test=submit-confirm]').click()
  await page.locator('.el-form-item.is-error', { hasText: '建设内容' }).waitFor()

  // edit, save, submit
  await inp(page, 'f-summary').fill('建设统一身份认证与门户，整合各部门业务系统入口。')
  await page.locator('[data-test=save]').click()
  await toast(page, '已保存').waitFor()
  p = (await expectCall(200, 'GET', `/projects/${id}`, undefined, token)).data
  assert(p.summary.startsWith('建设统一身份认证'), JSON.stringify(p))
  await shot(page, 'project-edit')
  await page.locator('[data-test=submit]').click()
  await page.locator('[data-test=similar-table]').getByText(title).first().waitFor()
  await page.locator('[data-test=submit-confirm]').click()
  // the reply's similar projects, then the list
  const box = page.locator('.el-message-box', { hasText: '相似项目' })
  await box.waitFor()
  await box.locator('button', { hasText: '知道了' }).click()
  await page.waitForURL((url) => url.pathname === '/projects')
  await page.locator(`[data-test=state-${id}]`, { hasText: '审核中' }).waitFor()
  p = (await expectCall(200, 'GET', `/projects/${id}`, undefined, token)).data
  assert(p.state === 'under_review', p.state)
  // submitted: no edit offered any more
  assert((await page.locator(`[data-test=edit-${id}]`).count()) === 0, 'edit offered on a submitted project')
  await shot(page, 'projects')
  // phone width
  await page.setViewportSize({ width: 390, height: 844 })
  await page.locator(`[data-test=state-${id}]`).waitFor()
  await shot(page, 'projects-phone')
})

test('a concurrent edit (412) is explained, the user keeps their text and may save it on top', async (t) => {
  const u = await makeUser(['applicant'])
  const token = await apiLogin(u)
  const created = await expectCall(201, 'POST', '/projects', { title: `并发编辑 ${sfx()}`, kind: 'new_system', summary: '原文', budget_cents: 500 }, token)
  const id = created.data.id

  const page = await newPage(t)
  await page.goto(`${ROOT}/projects/${id}/edit`)
  await page.waitForURL(/\/login/)
  await signIn(page, u, { expectPath: `/projects/${id}/edit` })
  await inp(page, 'f-summary').waitFor()
  await page.waitForFunction(() => document.querySelector('textarea[data-test=f-summary]')?.value === '原文')

  // someone else saves first
  const other = await expectCall(200, 'PATCH', `/projects/${id}`, { title: '他人修改的标题' }, token, { 'If-Match': created.etag })
  assert(other.data.version > created.data.version, 'no new version')

  const mine = '我在浏览器里写的建设内容，不能丢。'
  await inp(page, 'f-summary').fill(mine)
  await page.locator('[data-test=save]').click()
  const c = page.locator('[data-test=conflict]')
  await c.waitFor()
  await c.getByText('已被他人修改').waitFor()
  await c.getByText('他人修改的标题').first().waitFor()
  assert((await inp(page, 'f-summary').inputValue()) === mine, 'the user text was lost')
  await shot(page, 'project-conflict')

  await page.locator('[data-test=conflict-keep]').click()
  await c.waitFor({ state: 'detached' })
  const p = (await expectCall(200, 'GET', `/projects/${id}`, undefined, token)).data
  assert(p.summary === mine && p.title === '他人修改的标题', `merge lost a change: ${JSON.stringify(p)}`)
})

test('a role without the action is not offered it (IT office: no new application, no edit)', async (t) => {
  const appl = await makeUser(['applicant'])
  const tok = await apiLogin(appl)
  const draft = (await expectCall(201, 'POST', '/projects', { title: `他部门草稿 ${sfx()}`, kind: 'hardware' }, tok)).data
  const office = await makeUser(['it_office'])
  const page = await newPage(t)
  await gotoSignIn(page)
  await signIn(page, office)
  await page.locator('.shell-nav a', { hasText: '项目申报' }).click()
  await page.locator('[data-test=project-table]').waitFor()
  // all projects are listed to the IT office: find this one by its title
  await inp(page, 'project-search').fill(draft.title)
  await inp(page, 'project-search').press('Enter')
  await page.locator(`[data-test=project-${draft.id}]`).waitFor()
  assert((await page.locator('[data-test=project-new]').count()) === 0, 'new application offered to it_office')
  assert((await page.locator(`[data-test=edit-${draft.id}]`).count()) === 0, 'edit offered to it_office')
  // typing the address does not get the form either
  await page.goto(`${ROOT}/projects/new`)
  await page.waitForURL(/\/tasks/)
})

test('change password, sign out, sign in with the new password', async (t) => {
  const u = await makeUser(['expert'])
  const page = await newPage(t)
  await gotoSignIn(page)
  await signIn(page, u)
  await page.locator('[data-test=user-menu]').click()
  await page.locator('[data-test=menu-password]').click()
  await page.waitForURL(/\/password/)
  // wrong current password: the API's errors[] on that field
  await inp(page, 'current-password').fill('not-my-password')
  await inp(page, 'new-password').fill('Brand-new-pw-123')
  await inp(page, 'confirm-password').fill('Brand-new-pw-123')
  await page.locator('[data-test=password-submit]').click()
  await page.locator('.el-form-item.is-error', { hasText: '当前密码' }).waitFor()
  await shot(page, 'change-password')
  await inp(page, 'current-password').fill(u.password)
  await page.locator('[data-test=password-submit]').click()
  await toast(page, '密码已修改').waitFor()
  await page.locator('[data-test=user-menu]').click()
  await page.locator('[data-test=menu-logout]').click()
  await page.locator('.el-message-box button', { hasText: '退出' }).click()
  await page.waitForURL(/\/login/)
  // the token is gone from sessionStorage, and never was in localStorage
  const stored = await page.evaluate(() => [sessionStorage.getItem('itgov.token'), JSON.stringify(localStorage)])
  assert(stored[0] === null && stored[1] === '{}', JSON.stringify(stored))
  await signIn(page, { username: u.username, password: 'Brand-new-pw-123' })
})

test('a session an admin ends sends the browser to sign-in, and back to the page after', async (t) => {
  const u = await makeUser(['applicant'])
  const page = await newPage(t)
  await gotoSignIn(page)
  await signIn(page, u)
  await page.waitForURL(/\/tasks/)
  // the token lives in sessionStorage, never in the URL or localStorage
  const tok = await page.evaluate(() => sessionStorage.getItem('itgov.token'))
  assert(tok && !page.url().includes(tok), 'token missing or in the URL')
  assert((await page.evaluate(() => localStorage.length)) === 0, 'localStorage used')

  const adm = await admin()
  const sessions = (await expectCall(200, 'GET', '/sessions?limit=200', undefined, adm)).data.items
  const mine = sessions.filter((s) => s.username === u.username)
  assert(mine.length === 1, `sessions of ${u.username}: ${mine.length}`)
  await expectCall(204, 'DELETE', `/sessions/${mine[0].id}`, undefined, adm)

  await page.locator('.shell-nav a', { hasText: '项目申报' }).click()
  await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('redirect') === '/projects')
  await page.locator('[data-test=expired]').waitFor()
  await shot(page, 'session-ended')
  await signIn(page, u, { expectPath: '/projects' })
  await page.locator('[data-test=project-table]').waitFor()

  // ended again, then the page is reloaded: sign-in, and back to it after
  const again = (await expectCall(200, 'GET', '/sessions?limit=200', undefined, adm)).data.items.filter((s) => s.username === u.username)
  assert(again.length === 1, `sessions of ${u.username}: ${again.length}`)
  await expectCall(204, 'DELETE', `/sessions/${again[0].id}`, undefined, adm)
  await page.goto(`${ROOT}/projects?state=draft`)
  await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('redirect') === '/projects?state=draft')
  await signIn(page, u, { expectPath: '/projects?state=draft' })
})

test('a wrong password is shown as a message on the sign-in page', async (t) => {
  const u = await makeUser(['auditor'])
  const page = await newPage(t)
  await gotoSignIn(page)
  await inp(page, 'username').fill(u.username)
  await inp(page, 'password').fill('wrong-password-1')
  await page.locator('[data-test=login-submit]').click()
  await page.locator('[data-test=login-error]', { hasText: '用户名或密码错误' }).waitFor()
  assert(page.url().includes('/login') && !page.url().includes('password'), page.url())
})

// ---------------------------------------------------------------- part S's screens
// (tests/browser/s_screens.mjs: review, meeting, project page, audit, admin)

for (const x of (await import('./s_screens.mjs')).tests) {
  test(x.name, (t) => x.run({ newPage: (viewport) => newPage(t, viewport), origin: ROOT, shot }))
}

// ---------------------------------------------------------------- runner

const filters = process.argv.slice(2)
const chosen = filters.length ? tests.filter((x) => filters.some((f) => x.name.includes(f))) : tests
let passed = 0
let failed = 0
const notes = []
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    timeout: 60000,
  })
} catch (e) {
  console.error(`cannot start ${CHROMIUM}: ${e.message}`)
  process.exit(1)
}
for (const x of chosen) {
  const t = { contexts: [], problems: [], note: (s) => notes.push(s) }
  const t0 = Date.now()
  let err = null
  try {
    await x.fn(t)
  } catch (e) {
    err = e
  }
  if (!err && t.problems.length) err = new Error(t.problems.join('\n    '))
  if (err) {
    failed++
    console.log(`FAIL ${x.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n    ${String(err.stack || err).split('\n').slice(0, 6).join('\n    ')}`)
    if (t.problems.length && err.message !== t.problems.join('\n    ')) console.log(`    also: ${t.problems.join('; ')}`)
    const page = t.contexts.at(-1)?.pages().at(-1)
    if (page) {
      const f = path.join(HERE, '..', '..', 'build-test', 'test-logs', `browser-fail-${failed}.png`)
      mkdirSync(path.dirname(f), { recursive: true })
      await page.screenshot({ path: f }).then(() => console.log(`    screenshot: ${f}`), () => {})
    }
  } else {
    passed++
    console.log(`ok   ${x.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
  }
  for (const c of t.contexts) await c.close().catch(() => {})
}
await browser.close()
for (const n of notes) console.log(`note: ${n}`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
