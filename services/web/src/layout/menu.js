// The header menu: one entry per screen, offered only to the roles listed
// (roles: undefined = everyone signed in). Part S adds its areas here.
export const MENU = [
  { path: '/tasks', title: '我的待办' },
  { path: '/projects', title: '项目申报', roles: ['applicant', 'it_office', 'secretary', 'auditor', 'admin', 'expert'] },
  // --- S: more areas here ---
  { path: '/review', title: '审核', roles: ['it_office', 'expert', 'secretary', 'auditor', 'admin'] },
  { path: '/meeting', title: '会议', roles: ['secretary'] },
  { path: '/operations', title: '运行监管', roles: ['it_office', 'auditor'] },
  { path: '/audit', title: '审计', roles: ['auditor', 'admin'] },
  { path: '/admin', title: '系统管理', roles: ['admin'] },
]
