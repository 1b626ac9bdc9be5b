// Where a to-do item (GET /me/tasks) is acted on: the route of its screen.
export function taskTarget(t) {
  if (t.case_id) return { name: 'case', params: { id: String(t.case_id) } }
  const pid = t.project_id ? String(t.project_id) : null
  if (!pid) return { name: 'tasks' }
  if (t.kind === 'project_returned') return { name: 'project-edit', params: { id: pid } }
  const s = t.subject || ''
  let tab = 'overview'
  if (/^(rectifications|info-requests)\//.test(s)) tab = 'supervision'
  else if (/\/milestones\//.test(s) || t.kind === 'milestone_overdue') tab = 'plan'
  else if (t.kind === 'go_live') tab = 'golive'
  return { name: 'project-page', params: { id: pid }, query: { tab } }
}
