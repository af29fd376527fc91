import t from 'tap';
import { makeGateway, TEST_KEY } from '../helpers/gateway.ts';

t.test('auth: missing / unknown key 401, scope or brand not held 403', async (t) => {
  const gw = await makeGateway(t, {
    apiKeys: [{ name: 'narrow', key: 'narrow-key-0123456789', brands: [5], scopes: ['check'] }],
  });
  const noKey = await gw.app.inject({ method: 'POST', url: '/v1/check', payload: { brandCode: 5, recipient: '05321234567', type: 'MESAJ' } });
  t.equal(noKey.statusCode, 401);
  t.equal(noKey.json().code, 'GW_ERR_UNAUTHORIZED');
  const bad = await gw.call('POST', '/v1/check', { brandCode: 5, recipient: '05321234567', type: 'MESAJ' }, { authorization: 'Bearer nope' });
  t.equal(bad.status, 401);
  const narrow = { authorization: 'Bearer narrow-key-0123456789' };
  const otherBrand = await gw.call('POST', '/v1/check', { brandCode: 6, recipient: '05321234567', type: 'MESAJ' }, narrow);
  t.equal(otherBrand.status, 403);
  t.equal(otherBrand.body.code, 'GW_ERR_FORBIDDEN');
  t.equal(otherBrand.body.field, 'brandCode');
  const noScope = await gw.call('POST', '/v1/rejections', { brandCode: 5, recipient: '05321234567', type: 'MESAJ' }, narrow);
  t.equal(noScope.status, 403);
  const implicitBrand = await gw.call('POST', '/v1/check', { recipient: '05321234567', type: 'MESAJ' }, narrow);
  t.equal(implicitBrand.status, 200, 'brandCode may be omitted when the key holds one brand');
  const ambiguous = await gw.call('POST', '/v1/check', { recipient: '05321234567', type: 'MESAJ' });
  t.equal(ambiguous.status, 400);
  t.equal(ambiguous.body.code, 'GW_ERR_BRAND_REQUIRED');
  t.equal(ambiguous.body.field, 'brandCode');
});

t.test('bad input: coded 4xx naming the field, never 500', async (t) => {
  const gw = await makeGateway(t, { bodyLimitBytes: 4096 });
  const base = { brandCode: 1, recipient: '05321234567', type: 'MESAJ' };
  const cases: Array<[string, unknown, number, string, string | undefined, Record<string, string>?]> = [
    ['unknown field', { ...base, foo: 1 }, 400, 'GW_ERR_VALIDATION', 'foo'],
    ['unknown enum value', { ...base, type: 'SMS' }, 400, 'GW_ERR_VALIDATION', 'type'],
    ['status alias is not a field here', { ...base, messageType: 'PROMO' }, 400, 'GW_ERR_VALIDATION', 'messageType'],
    ['missing field', { brandCode: 1, type: 'MESAJ' }, 400, 'GW_ERR_VALIDATION', 'recipient'],
    ['empty recipient', { ...base, recipient: '' }, 400, 'GW_ERR_INVALID_RECIPIENT', 'recipient'],
    ['bad recipient', { ...base, recipient: '532123456' }, 400, 'GW_ERR_INVALID_RECIPIENT', 'recipient'],
    ['brandCode not integer', { ...base, brandCode: 1.5 }, 400, 'GW_ERR_VALIDATION', 'brandCode'],
    ['body not an object', [1, 2], 400, 'GW_ERR_VALIDATION', undefined],
    ['bad JSON', '{"brandCode": ', 400, 'GW_ERR_BAD_JSON', 'body', { 'content-type': 'application/json' }],
    ['wrong content type', 'brandCode=1', 415, 'GW_ERR_UNSUPPORTED_MEDIA_TYPE', undefined, { 'content-type': 'application/x-www-form-urlencoded' }],
    ['body over the limit', { ...base, recipient: 'x'.repeat(5000) }, 413, 'GW_ERR_BODY_TOO_LARGE', undefined],
  ];
  for (const [name, body, status, code, field, headers] of cases) {
    const res = await gw.call('POST', '/v1/check', body, headers ?? {});
    t.equal(res.status, status, `${name}: status`);
    t.equal(res.body.code, code, `${name}: code`);
    if (field !== undefined) t.equal(res.body.field, field, `${name}: field`);
    t.type(res.body.message, 'string');
  }
  const nf = await gw.call('GET', '/v1/nope');
  t.equal(nf.status, 404);
  t.equal(nf.body.code, 'GW_ERR_NOT_FOUND');
  // a route asked with the wrong method: 405 with Allow, not "not found" (a new user's first curl)
  const wrong = await gw.call('GET', '/v1/check?recipient=5321234567');
  t.equal(wrong.status, 405);
  t.equal(wrong.body.code, 'GW_ERR_METHOD_NOT_ALLOWED');
  t.match(wrong.body.message, /\/v1\/check takes POST, not GET/);
  t.equal(wrong.headers.allow, 'POST');
});

t.test('batch: over the limit is 413 before validation; a bad item names its index (C36)', async (t) => {
  const gw = await makeGateway(t, { bodyLimitBytes: 8 * 1024 * 1024 });
  const tooMany = Array.from({ length: 10_001 }, (_, i) => `+9053200${String(i).padStart(5, '0')}`);
  const big = await gw.call('POST', '/v1/check/batch', { brandCode: 1, type: 'MESAJ', recipients: tooMany });
  t.equal(big.status, 413);
  t.equal(big.body.code, 'GW_ERR_BATCH_TOO_LARGE');
  t.equal(big.body.field, 'recipients');
  const list: unknown[] = tooMany.slice(0, 10_000);
  list[7312] = 42;
  const bad = await gw.call('POST', '/v1/check/batch', { brandCode: 1, type: 'MESAJ', recipients: list });
  t.equal(bad.status, 400);
  t.equal(bad.body.field, 'recipients.7312');
  t.ok(bad.body.message.length < 300, 'compact error');
  const empty = await gw.call('POST', '/v1/check/batch', { brandCode: 1, type: 'MESAJ', recipients: [] });
  t.equal(empty.status, 400);
  t.equal(empty.body.field, 'recipients');
  const full = await gw.call('POST', '/v1/check/batch', { brandCode: 1, type: 'MESAJ', recipients: tooMany.slice(0, 10_000) });
  t.equal(full.status, 200);
  t.equal(full.body.results.length, 10_000);
  t.equal(full.body.counts.BLOCK, 10_000);
});

t.test('openapi.json is generated from the validating schemas', async (t) => {
  const gw = await makeGateway(t);
  const res = await gw.call('GET', '/openapi.json');
  t.equal(res.status, 200);
  t.equal(res.body.openapi, '3.0.3');
  const check = res.body.paths['/v1/check'].post;
  t.same(check.requestBody.content['application/json'].schema.properties.type.enum, ['MESAJ', 'ARAMA', 'EPOSTA']);
  t.ok(res.body.paths['/v1/check/batch'] && res.body.paths['/v1/rejections'] && res.body.paths['/v1/consents'] && res.body.paths['/v1/mirror/import']);
});

t.test('health, readiness and metrics', async (t) => {
  const gw = await makeGateway(t);
  t.equal((await gw.call('GET', '/healthz')).status, 200);
  const ready = await gw.call('GET', '/readyz');
  t.equal(ready.status, 200);
  t.equal(ready.body.store.kind, 'embedded');
  await gw.call('POST', '/v1/check', { brandCode: 1, recipient: '05321234567', type: 'MESAJ' });
  const m = await gw.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(m.statusCode, 200);
  t.match(m.body, /iysgate_decisions_total\{type="MESAJ",messageType="TICARI",decision="BLOCK",reason="NO_CONSENT"\} 1/);
  t.match(m.body, /iysgate_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/check"/);
  t.notMatch(m.body, /905321234567/, 'no recipient in metrics');
});

t.test('stale mirror: TICARI blocked MIRROR_STALE, informational still allowed, readyz 503', async (t) => {
  const gw = await makeGateway(t, { mirrorMaxAgeMs: 60_000 });
  gw.app.checks.markFresh(Date.now() - 120_000);
  const r = await gw.call('POST', '/v1/check', { brandCode: 1, recipient: '05321234567', type: 'MESAJ', recipientType: 'TACIR' });
  t.equal(r.body.reason, 'MIRROR_STALE');
  t.equal(r.body.decision, 'BLOCK');
  const info = await gw.call('POST', '/v1/check', { brandCode: 1, recipient: '05321234567', type: 'MESAJ', messageType: 'BILGILENDIRME' });
  t.equal(info.body.decision, 'ALLOW');
  t.equal((await gw.call('GET', '/readyz')).status, 503);
});

t.test('CSV routes (import, İYS upload, scrub) answer a JSON body with 415, never parse it (newcomer trial)', async (t) => {
  const gw = await makeGateway(t);
  for (const url of ['/v1/mirror/import', '/v1/scrub?brandCode=1&type=MESAJ', '/v1/iys/uploads?brandCode=1']) {
    for (const payload of ['["05321220006"]', '{"a":1}']) {
      const res = await gw.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, payload });
      t.equal(res.statusCode, 415, `${url} ${payload}`);
      t.equal(res.json().code, 'GW_ERR_UNSUPPORTED_MEDIA_TYPE');
    }
  }
});

t.test('a missing field is named once: "type is required"', async (t) => {
  const gw = await makeGateway(t);
  const res = await gw.app.inject({ method: 'POST', url: '/v1/scrub?brandCode=1', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'text/plain' }, payload: '05321234567\n' });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { code: 'GW_ERR_VALIDATION', field: 'type', message: 'type is required' });
  const body = await gw.call('POST', '/v1/check', { brandCode: 1, type: 'MESAJ' });
  t.match(body.body, { code: 'GW_ERR_VALIDATION', field: 'recipient', message: 'recipient is required' });
});

t.test('an empty POST without a content type to a CSV route is 415, not 500 (review)', async (t) => {
  const gw = await makeGateway(t);
  for (const url of ['/v1/mirror/import?brandCode=1', '/v1/scrub?brandCode=1&type=MESAJ']) {
    const res = await gw.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TEST_KEY}` } });
    t.equal(res.statusCode, 415, url);
    t.equal(res.json().code, 'GW_ERR_UNSUPPORTED_MEDIA_TYPE');
  }
});
