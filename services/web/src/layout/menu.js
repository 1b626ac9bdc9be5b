// The header menu: one entry per screen, offered only to the roles listed
// (roles: undefined = everyone signed in). Part S adds its areas here.
export const MENU = [
  { path: '/tasks', title: '我的待办' },
  { path: '/projects', title: '项目申报', roles: ['applicant', 'it_office', 'secretary', 'auditor', 'admin', 'expert'] },
  // --- S: more areas here ---
]
