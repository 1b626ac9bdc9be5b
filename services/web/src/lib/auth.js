// The signed-in user: the token lives in memory and in sessionStorage only
// (never localStorage, never a URL), so it ends with the browser tab.
import { reactive } from 'vue'

const KEY = 'itgov.token'

function readStored() {
  try {
    return window.sessionStorage.getItem(KEY) || ''
  } catch {
    return ''
  }
}

export const auth = reactive({
  token: readStored(),
  user: null, // GET /api/v1/me
  expiresAt: null,
})

export function setSession(token, user, expiresAt) {
  auth.token = token
  auth.user = user || null
  auth.expiresAt = expiresAt || null
  try {
    window.sessionStorage.setItem(KEY, token)
  } catch {
    /* private mode: memory only */
  }
}

export function clearSession() {
  auth.token = ''
  auth.user = null
  auth.expiresAt = null
  try {
    window.sessionStorage.removeItem(KEY)
  } catch {
    /* ignore */
  }
}

export function signedIn() {
  return !!auth.token
}

// hasRole('applicant') or hasRole('it_office', 'admin'): any of them.
export function hasRole(...roles) {
  const mine = (auth.user && auth.user.roles) || []
  return roles.some((r) => mine.includes(r))
}

export const ROLE_NAMES = {
  admin: '系统管理员',
  it_office: '节能与信息化办公室',
  applicant: '申报人',
  expert: '评审专家',
  secretary: '会议秘书',
  auditor: '审计员',
}
