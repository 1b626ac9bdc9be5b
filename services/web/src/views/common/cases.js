// What each kind of approval case takes at each step (approvals' case kinds).
export function reviewOutcomes(c) {
  switch (c.kind) {
    case 'initiation': return ['pass', 'return', 'reject']
    case 'contract': return ['pass', 'reject']
    case 'acceptance': return ['pass', 'return']
    case 'change': return c.variant === 'general' ? ['pass', 'reject', 'reclassify_major'] : ['pass', 'reject']
    default: return []
  }
}

export function decisionOutcomes(c) {
  if (c.kind === 'escalation') {
    return c.variant === 'resume' ? ['resume', 'reject', 'terminate'] : ['continue', 'suspend', 'terminate']
  }
  return ['approve', 'reject']
}

/** The meetings that may decide a case (a plan only by the joint meeting). */
export function meetingsFor(c) {
  return c.kind === 'plan' ? ['joint_meeting'] : ['minister_office', 'joint_meeting']
}

/** "projects/42" → {kind: 'projects', id: 42}. */
export function parseSubject(s) {
  const m = /^([a-z-]+)\/(\d+)$/.exec(s || '')
  return m ? { kind: m[1], id: Number(m[2]) } : null
}
