// Calls to the gateway with the signed-in key (sessionStorage, sent as the Bearer header).

const KEY = 'iysgate.consoleKey';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? null;
  }
}

export function getKey() { return sessionStorage.getItem(KEY); }
export function setKey(k) { if (k) sessionStorage.setItem(KEY, k); else sessionStorage.removeItem(KEY); }

/**
 * GET `path` with the key; the JSON body, or the text when `as: 'text'`.
 * @throws ApiError with the gateway's status and code on a non-2xx answer
 */
export async function api(path, { as = 'json', key = getKey() } = {}) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${key ?? ''}`, accept: as === 'json' ? 'application/json' : '*/*' }, cache: 'no-store' });
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, body);
  }
  return as === 'json' ? res.json() : res.text();
}

/**
 * POST `body` as JSON to `path` with the key (an action: the key must hold its scope).
 * @throws ApiError on a non-2xx answer
 */
export async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { authorization: `Bearer ${getKey() ?? ''}`, 'content-type': 'application/json' }, body: JSON.stringify(body), cache: 'no-store' });
  let json = null;
  try { json = await res.json(); } catch { /* no body */ }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

/** True when the session's key holds `scope` (or every scope). */
export function holds(session, scope) {
  return session.scopes === '*' || session.scopes.includes(scope);
}
