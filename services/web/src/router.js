// Routes. Every view is loaded lazily (its own chunk) so the first page stays
// small. meta.roles: who the menu offers it to (the API still decides);
// meta.public: reachable signed out.
//
// Views live in views/<area>/; part S adds its areas' entries to `areaRoutes`
// below (one block per area) and their menu items in layout/menu.js.
import { createRouter, createWebHistory } from 'vue-router'
import { auth, signedIn, hasRole } from './lib/auth.js'
import { loadMe } from './lib/session.js'

const areaRoutes = [
  // --- tasks (W) ---
  { path: '/tasks', name: 'tasks', component: () => import('./views/tasks/TaskList.vue'), meta: { title: '我的待办' } },
  // --- projects (W) ---
  {
    path: '/projects',
    name: 'projects',
    component: () => import('./views/projects/ProjectList.vue'),
    meta: { title: '项目申报' },
  },
  {
    path: '/projects/new',
    name: 'project-new',
    component: () => import('./views/projects/ProjectEdit.vue'),
    meta: { title: '新建项目申报', roles: ['applicant'] },
  },
  {
    path: '/projects/:id(\\d+)/edit',
    name: 'project-edit',
    component: () => import('./views/projects/ProjectEdit.vue'),
    meta: { title: '编辑项目申报', roles: ['applicant'] },
  },
  // --- S: more areas here ---
  // --- review (S): the IT office's review, expert opinions, one case ---
  {
    path: '/review',
    name: 'review',
    component: () => import('./views/review/ReviewList.vue'),
    meta: { title: '审核与决策' },
  },
  { path: '/approvals/:id(\\d+)', redirect: (to) => ({ name: 'case', params: { id: to.params.id } }) },
  { path: '/cases/:id(\\d+)', name: 'case', component: () => import('./views/review/CaseView.vue'), meta: { title: '审批案件' } },
  // --- meeting (S): the secretary records one meeting's decisions ---
  {
    path: '/meeting',
    name: 'meeting',
    component: () => import('./views/meeting/MeetingView.vue'),
    meta: { title: '会议决策', roles: ['secretary', 'it_office', 'admin', 'auditor'] },
  },
  // --- project (S): the project page ---
  {
    path: '/projects/:id(\\d+)',
    name: 'project-page',
    component: () => import('./views/project/ProjectView.vue'),
    meta: { title: '项目详情' },
  },
  // --- audit (S) ---
  {
    path: '/audit',
    name: 'audit',
    component: () => import('./views/audit/AuditView.vue'),
    meta: { title: '审计日志', roles: ['auditor', 'admin', 'it_office'] },
  },
  // --- operations (S): systems in operation ---
  {
    path: '/operations',
    name: 'operations',
    component: () => import('./views/operations/OperationsView.vue'),
    meta: { title: '运行监管', roles: ['it_office', 'auditor', 'admin'] },
  },
  // --- admin (S) ---
  {
    path: '/admin',
    name: 'admin',
    component: () => import('./views/admin/AdminView.vue'),
    meta: { title: '系统管理', roles: ['admin', 'auditor'] },
  },
]

const routes = [
  {
    path: '/login',
    name: 'login',
    component: () => import('./views/auth/SignIn.vue'),
    meta: { public: true, title: '登录' },
  },
  {
    path: '/',
    component: () => import('./layout/AppLayout.vue'),
    children: [
      { path: '', redirect: { name: 'tasks' } },
      {
        path: 'password',
        name: 'password',
        component: () => import('./views/auth/ChangePassword.vue'),
        meta: { title: '修改密码' },
      },
      ...areaRoutes.map((r) => ({ ...r, path: r.path.replace(/^\//, '') })),
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('./views/NotFound.vue'),
        meta: { title: '页面不存在' },
      },
    ],
  },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

// Where the navigation under way goes (a 401 during it returns there).
let pending = null
export const pendingPath = () => pending

router.beforeEach(async (to) => {
  pending = to.fullPath
  if (to.meta.public) {
    if (to.name === 'login' && signedIn()) {
      // already signed in: go where the sign-in would have led
      const r = typeof to.query.redirect === 'string' && to.query.redirect.startsWith('/') ? to.query.redirect : '/'
      if (!auth.user) {
        try {
          await loadMe()
        } catch {
          return true
        }
      }
      return r
    }
    return true
  }
  if (!signedIn()) return { name: 'login', query: { redirect: to.fullPath } }
  if (!auth.user) {
    try {
      await loadMe()
    } catch {
      // a 401 already redirected (see main.js); anything else: try sign-in
      if (!signedIn()) return { name: 'login', query: { redirect: to.fullPath } }
    }
  }
  if (to.meta.roles && auth.user && !hasRole(...to.meta.roles)) return { name: 'tasks' }
  return true
})

router.afterEach((to) => {
  pending = null
  document.title = to.meta.title ? `${to.meta.title} - itgov` : 'itgov 信息化项目管理平台'
})
