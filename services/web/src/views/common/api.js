// Part S's screens call the API through this thin adapter over the console's
// client (lib/api.js): each call resolves to the response body, a refusal
// throws lib/api.js's ApiError (its `problem` is the problem+json body).
import { api, qs } from '../../lib/api.js'

export { qs }
export const get = async (path, query) => (await api.get(path + qs(query))).data
export const getWithEtag = async (path) => {
  const r = await api.get(path)
  return { data: r.data, etag: r.etag }
}
export const post = async (path, body, opts) => (await api.post(path, body === undefined ? {} : body, opts)).data
export const put = async (path, body, opts) => (await api.put(path, body, opts)).data
export const patch = async (path, body, opts) => (await api.patch(path, body, opts)).data
export const del = async (path, opts) => (await api.delete(path, opts)).data

/** Every item of a list endpoint ({items, next_cursor}), at most `max` items. */
export async function getAll(path, query = {}, max = 2000) {
  const out = []
  let cursor
  do {
    const page = await get(path, { ...query, limit: 200, cursor })
    out.push(...page.items)
    cursor = page.next_cursor
  } while (cursor && out.length < max)
  return out
}
