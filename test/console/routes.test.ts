// The console's server side (issue 18): static files with a strict CSP, scope `console`
// (read-only), brand scoping of every /v1/console/* answer, the per-second decision ring, and
// lookups that are not counted as decisions.
import t, { type Test } from 'tap';
import { DecisionRing } from '../../src/check/decision-ring.ts';
import { makeGateway, toDailyCsv } from '../helpers/gateway.ts';

const A = 100001;
const B = 100002;
const KEY_A = 'console-a-0123456789abcdef';
const KEY_ALL = 'console-all-0123456789abcdef';
const ADMIN = 'admin-key-0123456789abcdef';

async function setup(t: Test) {
  const gw = await makeGateway(t, {
    brands: [A, B], mirrorMaxAgeMs: 0,
    apiKeys: [
      { name: 'ops-a', key: KEY_A, brands: [A], scopes: ['console'] },
      { name: 'ops-all', key: KEY_ALL, brands: '*', scopes: ['console'] },
      { name: 'admin', key: ADMIN, brands: '*', scopes: '*' },
    ],
  });
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  for (const [brand, r] of [[A, '+905321230001'], [B, '+905321230002']] as const) {
    const imp = await gw.call('POST', `/v1/mirror/import?brandCode=${brand}`, toDailyCsv([
      { recipient: r, recipientType: 'BIREYSEL', type: 'MESAJ', status: 'ONAY', source: 'HS_WEB', consentDate: '2026-01-05 10:00:00' },
      { recipient: 'x@example.com', recipientType: 'BIREYSEL', type: 'EPOSTA', status: 'RET', source: 'HS_WEB', consentDate: '2026-01-05 10:00:00' },
    ]), { ...as(ADMIN), 'content-type': 'text/csv' });
    t.equal(imp.body.applied, 2);
  }
  return { gw, as };
}

t.test('static files: index, scripts, vendored uPlot, strict CSP, nothing outside the folder', async (t) => {
  const { gw } = await setup(t);
  const get = (url: string) => gw.app.inject({ method: 'GET', url });
  const index = await get('/console/');
  t.equal(index.statusCode, 200);
  t.match(index.headers['content-type'], /^text\/html/);
  const csp = String(index.headers['content-security-policy']);
  t.match(csp, /default-src 'none'/);
  t.match(csp, /script-src 'self';/);
  t.match(csp, /frame-ancestors 'none'/);
  t.notMatch(csp, /unsafe/);
  t.equal(index.headers['x-content-type-options'], 'nosniff');
  t.notMatch(index.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in the page');
  t.notMatch(index.body, /\sstyle=|<style/, 'no inline style in the page');
  t.equal((await get('/console')).headers.location, '/console/');
  const app = await get('/console/app.js');
  t.equal(app.statusCode, 200);
  t.match(app.headers['content-type'], /javascript/);
  const uplot = await get('/console/vendor/uPlot.esm.js');
  t.equal(uplot.statusCode, 200, 'uPlot served from node_modules');
  t.match(uplot.body, /export \{ uPlot as default \}|export default/);
  for (const bad of ['/console/vendor/uPlot.cjs.js', '/console/../package.json', '/console/%2e%2e/package.json', '/console/lib/business-days.d.ts', '/console/.hidden.js']) {
    const r = await get(bad);
    t.equal(r.statusCode, 404, `${bad} → 404`);
  }
});

t.test('scope console: reads only; a key without it is refused; wrong key 401', async (t) => {
  const { gw, as } = await setup(t);
  t.equal((await gw.call('GET', '/v1/console/session', undefined, { authorization: 'Bearer nope-0123456789abcdef' })).status, 401);
  const s = await gw.call('GET', '/v1/console/session', undefined, as(KEY_A));
  t.same(s.body, { name: 'ops-a', brands: [A], scopes: ['console'], servedBrands: [A, B], features: { decisionLog: gw.app.hasRoute({ method: 'GET', url: '/v1/decisions' }), optoutReview: true } },
    'who the key is; the opt-out review queue exists (inbound door), the decision-log search when GET /v1/decisions does');
  t.same((await gw.call('GET', '/v1/console/session', undefined, as(KEY_ALL))).body.brands, [A, B], 'a key of every brand: the served brands');
  for (const url of ['/v1/outbox', '/v1/sync/status', '/v1/iys/uploads', `/v1/consents?brandCode=${A}&type=MESAJ&recipient=05321230001`]) {
    t.equal((await gw.call('GET', url, undefined, as(KEY_A))).status, 200, `console key reads ${url}`);
  }
  t.equal((await gw.call('GET', '/v1/optouts/review', undefined, as(KEY_A))).status, 200, 'console key reads the opt-out review queue');
  t.equal((await gw.call('POST', '/v1/optouts/review/x', { action: 'dismiss' }, as(KEY_A))).status, 403, '… but does not decide it');
  // nothing that writes or decides
  t.equal((await gw.call('POST', '/v1/rejections', { brandCode: A, recipient: '05321230001', type: 'MESAJ' }, as(KEY_A))).status, 403);
  t.equal((await gw.call('POST', '/v1/check', { brandCode: A, recipient: '05321230001', type: 'MESAJ' }, as(KEY_A))).status, 403);
  t.equal((await gw.call('POST', `/v1/mirror/import?brandCode=${A}`, 'a\n', { ...as(KEY_A), 'content-type': 'text/csv' })).status, 403);
  // a key without console does not read the console's routes
  const other = await makeGateway(t, { apiKeys: [{ name: 'checker', key: 'checker-0123456789abcdef', brands: [A], scopes: ['check'] }] });
  const r = await other.call('GET', '/v1/console/overview', undefined, { authorization: 'Bearer checker-0123456789abcdef' });
  t.equal(r.status, 403);
  t.equal(r.body.code, 'GW_ERR_FORBIDDEN');
});

t.test('brand scoping: a brand-A key sees A\'s counts, decisions and records only', async (t) => {
  const { gw, as } = await setup(t);
  const ov = await gw.call('GET', '/v1/console/overview', undefined, as(KEY_A));
  t.equal(ov.body.mirror.size, 2, 'A\'s records only');
  t.same(ov.body.mirror.byType, { MESAJ: { ONAY: 1, RET: 0 }, ARAMA: { ONAY: 0, RET: 0 }, EPOSTA: { ONAY: 0, RET: 1 } });
  const all = await gw.call('GET', '/v1/console/overview', undefined, as(KEY_ALL));
  t.equal(all.body.mirror.size, 4);
  t.same(all.body.mirror.byType.MESAJ, { ONAY: 2, RET: 0 });
  t.same([ov.body.store, ov.body.ready, ov.body.cache], [{ kind: 'embedded', reachable: true }, true, null]);

  for (const [brand, r] of [[A, '05321230001'], [B, '05321230002'], [B, '05321230002']] as const) {
    await gw.call('POST', '/v1/check', { brandCode: brand, recipient: r, type: 'MESAJ' }, as(ADMIN));
  }
  await gw.call('POST', '/v1/check/batch', { brandCode: B, type: 'MESAJ', recipients: ['05321230002', '05329999999'] }, as(ADMIN));
  const mine = (await gw.call('GET', '/v1/console/decisions?seconds=60', undefined, as(KEY_A))).body;
  t.same(mine.series.map((s: { brandCode: number; entrance: string; decision: string; reason: string; total: number }) => [s.brandCode, s.entrance, s.decision, s.reason, s.total]),
    [[A, 'check', 'ALLOW', 'CONSENT_ONAY', 1]], 'A sees its one decision');
  const every = (await gw.call('GET', '/v1/console/decisions?seconds=60', undefined, as(KEY_ALL))).body;
  t.same(every.series.map((s: { brandCode: number; entrance: string; decision: string; reason: string; total: number }) => [s.brandCode, s.entrance, s.decision, s.reason, s.total]).sort(),
    [[A, 'check', 'ALLOW', 'CONSENT_ONAY', 1], [B, 'batch', 'ALLOW', 'CONSENT_ONAY', 1], [B, 'batch', 'BLOCK', 'NO_CONSENT', 1], [B, 'check', 'ALLOW', 'CONSENT_ONAY', 2]].sort());
  t.equal(every.seconds, 60);

  const lookB = await gw.call('GET', `/v1/console/lookup?brandCode=${B}&recipient=05321230002`, undefined, as(KEY_A));
  t.equal(lookB.status, 403, 'A\'s key cannot look up in B');
  const look = await gw.call('GET', `/v1/console/lookup?recipient=${encodeURIComponent('0 (532) 123 00 01')}`, undefined, as(KEY_A));
  t.equal(look.status, 200);
  t.equal(look.body.normalized, '+905321230001');
  t.equal(look.body.brandCode, A, 'the key\'s only brand');
  t.same(look.body.records.map((r: { type: string; recipientType: string; current: { status: string } | null; movements: unknown[] }) => [r.type, r.recipientType, r.current?.status ?? null, r.movements.length]),
    [['MESAJ', 'BIREYSEL', 'ONAY', 1], ['MESAJ', 'TACIR', null, 0], ['ARAMA', 'BIREYSEL', null, 0], ['ARAMA', 'TACIR', null, 0]]);
  t.match(look.body.check, { TICARI: { decision: 'ALLOW', reason: 'CONSENT_ONAY', recipient: '+905321230001' }, BILGILENDIRME: { decision: 'ALLOW', reason: 'INFORMATIONAL_EXEMPT' } });
  const email = await gw.call('GET', '/v1/console/lookup?recipient=X@Example.com', undefined, as(KEY_A));
  t.same([email.body.type, email.body.normalized, email.body.check.TICARI.reason], ['EPOSTA', 'x@example.com', 'CONSENT_RET']);
  t.equal((await gw.call('GET', '/v1/console/lookup?recipient=12', undefined, as(KEY_A))).body.code, 'GW_ERR_INVALID_RECIPIENT');
  const after = (await gw.call('GET', '/v1/console/decisions?seconds=60', undefined, as(KEY_A))).body;
  t.same(after.series.map((s: { total: number }) => s.total), [1], 'lookups are not counted as decisions');

  const cal = (await gw.call('GET', '/v1/console/calendar', undefined, as(KEY_A))).body;
  t.match(cal, { halfDayPolicy: 'business', coveredYears: { from: 2024, to: 2030 }, today: /^\d{4}-\d{2}-\d{2}$/ });
  t.ok(cal.holidays.some((h: { date: string; half: boolean }) => h.date === '2026-03-20' && !h.half), 'Ramazan Bayramı 2026 listed');
  const doc = (await gw.call('GET', '/openapi.json')).body;
  for (const p of ['/v1/console/session', '/v1/console/overview', '/v1/console/decisions', '/v1/console/calendar', '/v1/console/lookup', '/v1/iys/uploads', '/console/', '/console/{path}']) t.ok(doc.paths[p], `${p} in the OpenAPI document`);
});

t.test('decision ring: per-second slots, a window that forgets, a bounded number of series', async (t) => {
  let now = 1_000_000_000_000;
  const ring = new DecisionRing({ windowSeconds: 10, maxSeries: 3, now: () => now });
  ring.record(1, 'check', 'ALLOW', 'CONSENT_ONAY');
  ring.record(1, 'check', 'ALLOW', 'CONSENT_ONAY', 4);
  now += 2000;
  ring.record(1, 'check', 'BLOCK', 'CONSENT_RET', 2);
  let s = ring.snapshot(5);
  t.equal(s.seconds, 5);
  t.equal(s.fromSecond, now / 1000 - 4);
  t.same(s.series.map((x) => [x.decision, x.counts, x.total]), [['ALLOW', [0, 0, 5, 0, 0], 5], ['BLOCK', [0, 0, 0, 0, 2], 2]]);
  now += 9000; // the first second has left the 10 s window; its slot is reused
  ring.record(1, 'check', 'BLOCK', 'CONSENT_RET');
  s = ring.snapshot();
  t.same(s.series.map((x) => [x.decision, x.total]), [['BLOCK', 3]], 'the ALLOWs of 11 s ago are gone');
  t.equal(s.series[0]!.counts.at(-1), 1);
  ring.record(2, 'proxy', 'ALLOW', 'CONSENT_ONAY');
  ring.record(3, 'proxy', 'ALLOW', 'CONSENT_ONAY');
  ring.record(4, 'smtp', 'ALLOW', 'CONSENT_ONAY');
  const brands = ring.snapshot().series.map((x) => `${x.brandCode}/${x.entrance}`).sort();
  t.same(brands, ['0/other', '1/check', '2/proxy'], 'past maxSeries, decisions fold into brand 0 / other');
  t.same(ring.snapshot(10, (b) => b === 2).series.map((x) => x.brandCode), [2], 'filtered by brand');
});
