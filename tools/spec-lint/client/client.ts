// A small client written against types generated from api-spec/openapi.yaml
// (openapi-typescript, into gen/api.d.ts by check-client.mjs): if a spec change
// breaks what a generated client relies on (a path, a request body, a response
// schema, the problem shape), `tsc --noEmit` fails here. Never run, only compiled.
import type { components, paths } from './gen/api';

type Schemas = components['schemas'];
type LoginBody = paths['/api/v1/sessions']['post']['requestBody']['content']['application/json'];
type Login = paths['/api/v1/sessions']['post']['responses']['201']['content']['application/json'];
type UserList = paths['/api/v1/users']['get']['responses']['200']['content']['application/json'];
type Project = paths['/api/v1/projects/{id}']['get']['responses']['200']['content']['application/json'];

export class ApiError extends Error {
  constructor(readonly problem: Schemas['Problem']) {
    super(`${problem.status} ${problem.title}: ${problem.code} (request ${problem.request_id})`);
  }
}

export async function call<T>(base: string, method: string, path: string, token?: string,
                              body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers['Authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + path, { method, headers,
                                       body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) throw new ApiError((await r.json()) as Schemas['Problem']);
  return (await r.json()) as T;
}

export async function example(base: string): Promise<string[]> {
  const body: LoginBody = { username: 'admin', password: 'a long passphrase' };
  const login = await call<Login>(base, 'POST', '/api/v1/sessions', undefined, body);
  const me: Schemas['User'] = login.user;
  const users = await call<UserList>(base, 'GET', '/api/v1/users?limit=50', login.token);
  const cursor: string | null = users.next_cursor;
  const project = await call<Project>(base, 'GET', '/api/v1/projects/1', login.token);
  return [me.username, login.expires_at, String(cursor), project.title ?? '',
          ...users.items.map((u: Schemas['User']) => `${u.id} ${u.display_name} ${u.roles.join(',')}`)];
}
