// Sign in / out and the current user.
import { api } from './api.js'
import { auth, setSession, clearSession } from './auth.js'

export async function signIn(username, password) {
  const { data } = await api.post('/sessions', { username, password }, { anonymous: true })
  setSession(data.token, data.user, data.expires_at)
  return data.user
}

export async function loadMe() {
  const { data } = await api.get('/me')
  auth.user = data
  return data
}

export async function signOut() {
  try {
    await api.delete('/sessions/current', { no401Redirect: true })
  } catch {
    /* already ended: fine */
  }
  clearSession()
}
