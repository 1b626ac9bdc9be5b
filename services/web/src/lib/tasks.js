// The to-do badge: GET /api/v1/me/tasks/summary. Until the tasks API exists
// (404) or when it fails, the badge shows nothing.
import { reactive } from 'vue'
import { api } from './api.js'

export const taskSummary = reactive({ open: null, overdue: null, available: false })

// open count from whichever shape the summary has: {open}, {total},
// {by_kind: {k: n}} or {by_kind: [{kind, count|open}]}.
export function summaryCounts(d) {
  if (!d || typeof d !== 'object') return { open: 0, overdue: 0 }
  let open = typeof d.open === 'number' ? d.open : typeof d.total === 'number' ? d.total : null
  if (open === null && d.by_kind) {
    const v = Array.isArray(d.by_kind) ? d.by_kind.map((x) => x.count ?? x.open ?? 0) : Object.values(d.by_kind)
    open = v.reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0)
  }
  const overdue = typeof d.overdue === 'number' ? d.overdue : 0
  return { open: open || 0, overdue }
}

export async function refreshTaskSummary() {
  try {
    const { data } = await api.get('/me/tasks/summary')
    const c = summaryCounts(data)
    taskSummary.open = c.open
    taskSummary.overdue = c.overdue
    taskSummary.available = true
  } catch {
    taskSummary.open = null
    taskSummary.overdue = null
    taskSummary.available = false
  }
}
