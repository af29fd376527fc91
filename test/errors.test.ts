import t from 'tap';
import { readFileSync } from 'node:fs';
import { ERROR_DEFINITIONS, gatewayError, isGatewayError } from '../src/errors.ts';
import { IMPORT_ROW_CODES } from '../src/mirror/importer.ts';

t.test('the README error table and the registry list the same codes and statuses', async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const rows = [...readme.matchAll(/^\| `(GW_ERR_[A-Z0-9_]+)` \| (\w+) \|/gm)].map((m) => [m[1]!, m[2]!] as const);
  const documented = new Map(rows);
  const registry = new Map<string, string>(Object.entries(ERROR_DEFINITIONS).map(([c, d]) => [c, String(d.status)]));
  for (const c of Object.keys(IMPORT_ROW_CODES)) registry.set(c, 'row');
  for (const [code, status] of registry) {
    if (status === 'row') { t.equal(documented.get(code), 'row', `${code} documented as a row error`); continue; }
    const doc = documented.get(code);
    t.ok(doc !== undefined, `${code} is in the README`);
    if (doc !== undefined && doc !== 'boot') t.equal(doc, status, `${code} status`);
  }
  for (const code of documented.keys()) t.ok(registry.has(code), `${code} in the README exists in src/errors.ts`);
});

t.test('gatewayError carries code, status, field and cause', async (t) => {
  const cause = new Error('redis down');
  const e = gatewayError('GW_ERR_STORE_UNAVAILABLE', ['timeout'], { field: 'x', cause });
  t.equal(e.code, 'GW_ERR_STORE_UNAVAILABLE');
  t.equal(e.statusCode, 503);
  t.equal(e.field, 'x');
  t.equal(e.cause, cause);
  t.match(e.message, /timeout/);
  t.ok(isGatewayError(e));
  t.notOk(isGatewayError(new Error('x')));
});

t.test('storeUnavailable: one wrapping, no driver text in the answer (review: "Consent store unavailable: Consent store unavailable: …")', async (t) => {
  const { storeUnavailable, gatewayError: ge } = await import('../src/errors.ts');
  const inner = ge('GW_ERR_STORE_UNAVAILABLE', ['read: Redis did not answer']);
  t.equal(storeUnavailable(inner), inner, 'already coded: returned as it is');
  const driver = new Error("Stream isn't writeable and enableOfflineQueue options is false");
  const wrapped = storeUnavailable(driver);
  t.equal(wrapped.code, 'GW_ERR_STORE_UNAVAILABLE');
  t.equal(wrapped.statusCode, 503);
  t.notMatch(wrapped.message, /enableOfflineQueue|writeable/, 'driver text not in the message');
  t.equal((wrapped as Error & { cause?: unknown }).cause, driver, 'kept as the logged cause');
  t.equal(wrapped.message.split('Consent store unavailable').length, 2, 'prefix once');
});
