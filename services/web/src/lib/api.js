// The one API client: same origin (/api/v1 through the gateway), bearer token
// from the auth store, JSON in and out; every error answer becomes an
// ApiError carrying the problem+json body (code, detail, errors[]).
//
//   const { data, etag } = await api.get('/projects/1')
//   await api.patch('/projects/1', { title }, { ifMatch: etag })
//
// A 401 on any call but sign-in ends the local session and sends the user to
// the sign-in page, which brings them back to where they were (see main.js).
import { auth, clearSession } from './auth.js'

export const API_BASE = '/api/v1'

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`)
    this.status = status
    this.problem = problem || { status, code: status === 0 ? 'network' : 'http_' + status }
    this.code = this.problem.code
    this.errors = Array.isArray(this.problem.errors) ? this.problem.errors : []
  }
}

let onUnauthorized = () => {}
// main.js installs the redirect to sign-in here (avoids an import cycle).
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn
}

export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json, application/problem+json' }
  if (auth.token && !opts.anonymous) headers.Authorization = `Bearer ${auth.token}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (opts.ifMatch) headers['If-Match'] = opts.ifMatch
  let res
  try {
    res = await fetch(API_BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    })
  } catch (e) {
    throw new ApiError(0, { status: 0, code: 'network', detail: '无法连接服务器，请检查网络' })
  }
  let data = null
  const text = await res.text()
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data && typeof data === 'object' ? data : null)
    if (res.status === 401 && !opts.anonymous && !opts.no401Redirect) {
      clearSession()
      onUnauthorized(err)
    }
    throw err
  }
  return { status: res.status, data, etag: res.headers.get('ETag'), headers: res.headers }
}

export const api = {
  get: (p, o) => request('GET', p, undefined, o),
  post: (p, b, o) => request('POST', p, b, o),
  put: (p, b, o) => request('PUT', p, b, o),
  patch: (p, b, o) => request('PATCH', p, b, o),
  delete: (p, o) => request('DELETE', p, undefined, o),
}

// A query string from an object, empty values left out.
export function qs(params) {
  const u = new URLSearchParams()
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v))
  }
  const s = u.toString()
  return s ? `?${s}` : ''
}
