// Review finding (issue 12 item 4): a refusal from İYS is never skipped. Found by following the
// README's simulator recipe: the simulator's clock runs minutes ahead of the gateway's, so every
// movement it makes is dated "in the future" for the gateway; they were logged "unreadable",
// skipped, the pull cursor moved past them, and push answered 200 and dropped them: the
// recipient kept getting ALLOW.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp, loggerOptions } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { KeyRing } from '../../src/plugins/api-keys.ts';
import { DEMO, startTestSimulator, type TestSimulator } from '../../src/simulator/testing.ts';

const KEY = 'skew-key-0123456789abcdef';
const PUSH = { username: 'iys-push', password: 'push-secret-123' };
const BRAND = DEMO.brandCode;
const GATEWAY_START = Date.parse('2026-11-28T10:00:00+03:00');
const SKEW_MS = 7 * 60_000 + 62 * 60_000; // the recipe's +62 min, plus a few minutes of real skew

/** A gateway on its own clock (`clock.ms`), the simulator SKEW_MS ahead of it (frozen; moved by hand). */
async function setup(t: Test, opts: { dataDir?: string; sim?: TestSimulator } = {}) {
  const sim = opts.sim ?? await startTestSimulator({ pushAllowHttp: true, clockStartAt: new Date(GATEWAY_START + SKEW_MS).toISOString(), clockFrozen: true });
  if (!opts.sim) t.teardown(() => sim.close());
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'iysgate-skew-'));
  if (!opts.dataDir) t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({
    env: { IYS_GATE_API_KEY: KEY },
    overrides: {
      dataDir, logLevel: 'info',
      iys: { baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, brands: [BRAND], push: PUSH, pullIntervalMs: 0, uploadIntervalMs: 0, reconcileDaily: false, clockSkewWarnMs: 60_000 },
    },
  });
  const clock = { ms: GATEWAY_START };
  const store = new MemoryStore({ dataDir: join(dataDir, 'mirror') });
  await store.open();
  const logs: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { logs.push(String(c)); cb(); } });
  const app: FastifyInstance = await buildApp(config, { store, keys: new KeyRing(config), logger: loggerOptions(config, stream), now: () => clock.ms });
  let closed = false;
  const close = async () => { if (closed) return; closed = true; await app.close(); await store.close(); };
  t.teardown(close);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  await app.iys.pullAll(); // a first complete pull makes the mirror fresh
  const call = async (method: 'GET' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await app.inject({ method, url, headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body ? { payload: JSON.stringify(body) } : {}) });
    return { status: r.statusCode, body: r.json(), text: r.body };
  };
  const check = async (recipient: string) => (await call('POST', '/v1/check', { brandCode: BRAND, recipient, type: 'MESAJ' })).body as { decision: string; reason: string };
  const basic = 'Basic ' + Buffer.from(`${PUSH.username}:${PUSH.password}`).toString('base64');
  const push = (list: unknown[]) => call('POST', '/v1/iys/push', { list }, { authorization: basic });
  const metrics = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body;
  return { sim, app, store, dataDir, clock, logs, address, call, check, push, metrics, close };
}

/** Seeds a movement in the simulator dated at its own now (ahead of the gateway). */
const seed = (sim: TestSimulator, recipient: string, status: 'ONAY' | 'RET', source = 'IYS_MOBIL') =>
  sim.http('POST', '/_sim/movements', {
    brandCode: BRAND, recipient, type: 'MESAJ', recipientType: 'BIREYSEL', status, source,
    consentDate: sim.iysNow(), creationDate: sim.iysNow(1000),
  });

t.test('pull: a RET dated ahead of the gateway clock blocks; a future ONAY waits in the dead-letter store, the cursor moves, and it is applied once the clock catches up', async (t) => {
  const g = await setup(t);
  t.equal((await seed(g.sim, '+905321240001', 'ONAY', 'IYS_WEB')).status, 201);
  t.equal((await seed(g.sim, '+905321240002', 'ONAY', 'IYS_WEB')).status, 201);
  await g.sim.advance(61 * 60_000); // the feed hides its newest 60 minutes
  await g.app.iys.pullAll();
  t.same(await g.check('05321240001').then((r) => [r.decision, r.reason]), ['BLOCK', 'NO_CONSENT'], 'a future ONAY is not consent yet (fail closed)');

  // the citizen then refuses one of them through İYS
  t.equal((await seed(g.sim, '+905321240001', 'RET')).status, 201);
  await g.sim.advance(61 * 60_000);
  await g.app.iys.pullAll();
  t.same(await g.check('05321240001').then((r) => [r.decision, r.reason]), ['BLOCK', 'CONSENT_RET'], 'the RET from İYS is applied whatever its date');

  const st = await g.call('GET', '/v1/sync/status');
  const brand = st.body.brands[0];
  t.equal(brand.lastError, null);
  t.ok(brand.cursors.IYS, 'the cursor moved on');
  t.equal(st.body.deadLetters.open, 2, 'both ONAYs wait, none was dropped');
  t.same(st.body.deadLetters.openByReason.future_date, 2);
  t.same(st.body.deadLetters.items.map((i: { reason: string; via: string; feed: string }) => [i.reason, i.via, i.feed]), [['future_date', 'pull', 'IYS'], ['future_date', 'pull', 'IYS']]);
  t.notMatch(JSON.stringify(st.body.deadLetters.items), /905321240001/, 'the status masks recipients');
  t.match(st.body.deadLetters.items[0].raw.consentDate, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'raw content kept');
  t.equal(brand.deadLetters, 2);
  // the clock skew against İYS is measured from its Date header and reported
  t.ok(Math.abs(st.body.clock.iysSkewMs - (SKEW_MS + 122 * 60_000)) <= 1500, `skew ${st.body.clock.iysSkewMs} ms`);
  const m = await g.metrics();
  t.match(m, /iysgate_sync_dead_letters_total\{reason="future_date"\} 2/);
  t.match(m, /iysgate_sync_dead_letters_open\{reason="future_date"\} 2/);
  const skew = Number(/^iysgate_iys_clock_skew_seconds (\S+)$/m.exec(m)?.[1]);
  t.ok(Math.abs(skew - (SKEW_MS + 122 * 60_000) / 1000) <= 1.5, `metric skew ${skew} s`);
  t.ok(g.logs.some((l) => l.includes('"level":40') && l.includes('clockSkewMs')), 'a warning past iys.clockSkewWarnMs');

  // durable: the file holds the raw items with their full content
  const file = readFileSync(join(g.dataDir, 'sync', 'dead-letters.log'), 'utf8');
  t.match(file, /\+905321240002/);

  // the retry on each pull cycle: still in the future → still waiting
  g.clock.ms += 30 * 60_000;
  await g.app.iys.pullAll();
  t.equal((await g.call('GET', '/v1/sync/status')).body.deadLetters.open, 2);
  // the gateway clock catches up (NTP fixed): the next cycle applies them
  g.clock.ms += SKEW_MS + 122 * 60_000;
  await g.app.iys.pullAll();
  const after = await g.call('GET', '/v1/sync/status');
  t.equal(after.body.deadLetters.open, 0);
  t.equal(after.body.deadLetters.resolved, 2);
  t.equal(after.body.brands[0].deadLettersRecovered, 2);
  t.same(await g.check('05321240002').then((r) => [r.decision, r.reason]), ['ALLOW', 'CONSENT_ONAY'], 'the ONAY applied once it is no longer in the future');
  t.same(await g.check('05321240001').then((r) => [r.decision, r.reason]), ['BLOCK', 'CONSENT_RET'], 'the older ONAY does not outrank the RET');
  t.match(await g.metrics(), /iysgate_sync_dead_letters_open\{reason="future_date"\} 0/);
});

t.test('push: a citizen RET from a simulator ahead of the gateway blocks; a future ONAY is dead-lettered before the 200 and survives a restart', async (t) => {
  const g = await setup(t);
  await g.app.iys.client!.registerPush(BRAND, [{ url: `${g.address}/v1/iys/push`, type: 'MESAJ', username: PUSH.username, password: PUSH.password }]);
  const act = await g.sim.http('POST', '/_sim/citizen', { brandCode: BRAND, recipient: '+905321240011', type: 'MESAJ', recipientType: 'BIREYSEL', status: 'ONAY', source: 'IYS_WEB' });
  t.equal(act.status, 201);
  const deadline = Date.now() + 3000; // deliveries are fire and forget: wait for them
  while (Date.now() < deadline && (await g.sim.http('GET', '/_sim/push/deliveries')).body.length < 1) await new Promise((r) => setTimeout(r, 10));
  const ret = await g.sim.http('POST', '/_sim/citizen', { brandCode: BRAND, recipient: '+905321240011', type: 'MESAJ', recipientType: 'BIREYSEL', status: 'RET', source: 'IYS_MOBIL' });
  t.equal(ret.status, 201);
  while (Date.now() < deadline && (await g.sim.http('GET', '/_sim/push/deliveries')).body.length < 2) await new Promise((r) => setTimeout(r, 10));
  const deliveries = (await g.sim.http('GET', '/_sim/push/deliveries')).body as Array<{ ok: boolean; status: number }>;
  t.same(deliveries.map((d) => [d.ok, d.status]), [[true, 200], [true, 200]]);
  t.same(await g.check('05321240011').then((r) => [r.decision, r.reason]), ['BLOCK', 'CONSENT_RET'], 'the pushed RET blocks');

  // a push ONAY alone, dated ahead: the 200 comes only after it is in the dead-letter store
  const onay = { iysCode: DEMO.iysCode, brandCode: BRAND, recipient: '+905321240012', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'ONAY', source: 'IYS_WEB', consentDate: g.sim.iysNow(), creationDate: g.sim.iysNow(), transactionId: 'ab'.repeat(32) };
  const r = await g.push([onay]);
  t.equal(r.status, 200);
  t.match(r.body, { received: 1, applied: 0, deadLettered: 1 });
  t.match(readFileSync(join(g.dataDir, 'sync', 'dead-letters.log'), 'utf8'), /\+905321240012/, 'on disk before the answer');
  t.match(await g.metrics(), /iysgate_sync_dead_letters_total\{reason="future_date"\} 2/, 'the pushed citizen ONAY and this one');

  // a restart on the same data directory keeps them; the clock catches up; a pull cycle applies them
  await g.close();
  const g2 = await setup(t, { dataDir: g.dataDir, sim: g.sim });
  const st = await g2.call('GET', '/v1/sync/status');
  // the registration's test delivery (a brand not served) is kept too, never applied
  t.same(st.body.deadLetters.items.map((i: { via: string; reason: string }) => [i.via, i.reason]), [['push', 'unknown_brand'], ['push', 'future_date'], ['push', 'future_date']]);
  g2.clock.ms += SKEW_MS + 5 * 60_000;
  await g2.app.iys.pullAll();
  t.same((await g2.call('GET', '/v1/sync/status')).body.deadLetters.openByReason, { future_date: 0, invalid_field: 0, unkeyable: 0, unknown_brand: 1 });
  t.same(await g2.check('05321240012').then((x) => [x.decision, x.reason]), ['ALLOW', 'CONSENT_ONAY']);
  t.same(await g2.check('05321240011').then((x) => [x.decision, x.reason]), ['BLOCK', 'CONSENT_RET'], 'the older ONAY of 011 changed nothing');
});

t.test('variant: a push whose refused items cannot be written durably is answered 503 (İYS redelivers), and its RETs are applied', async (t) => {
  const g = await setup(t);
  await g.app.iys.deadLetters.close(); // the dead-letter file can no longer be written
  const ret = { brandCode: BRAND, recipient: '+905321240021', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'RET', source: 'IYS_MOBIL', consentDate: g.sim.iysNow(), creationDate: g.sim.iysNow() };
  const onay = { ...ret, recipient: '+905321240022', status: 'ONAY' };
  const r = await g.push([ret, onay]);
  t.equal(r.status, 503, 'not 200: the ONAY would be lost');
  t.equal(r.body.code, 'GW_ERR_STORE_UNAVAILABLE');
  t.equal((await g.check('05321240021')).reason, 'CONSENT_RET', 'the RET was applied all the same (redelivery is idempotent)');
});

t.test('variant: the pull cursor does not move past a page whose refused items could not be stored', async (t) => {
  const g = await setup(t);
  await seed(g.sim, '+905321240031', 'ONAY', 'IYS_WEB');
  await g.sim.advance(61 * 60_000);
  await g.app.iys.deadLetters.close();
  await g.app.iys.pullAll();
  const st = await g.call('GET', '/v1/sync/status');
  t.equal(st.body.brands[0].cursors.IYS, null, 'cursor kept');
  t.ok(st.body.brands[0].lastError, 'the cycle failed and will be retried');
  await g.app.iys.deadLetters.open();
  await g.app.iys.pullAll();
  const st2 = await g.call('GET', '/v1/sync/status');
  t.ok(st2.body.brands[0].cursors.IYS, 'moved once the item is stored');
  t.equal(st2.body.deadLetters.open, 1);
});

t.test('variant: RETs in every keyable form block (push), unkeyable items are dead-lettered, never dropped', async (t) => {
  const g = await setup(t);
  const base = { brandCode: BRAND, recipientType: 'BIREYSEL', type: 'MESAJ', status: 'RET', source: 'IYS_MOBIL', consentDate: '2026-11-28 09:00:00', creationDate: '2026-11-28 09:00:01' };
  const forms: Array<[string, Record<string, unknown>]> = [
    ['05321240041', { status: 'ret' }],
    ['05321240042', { status: 'RED', type: 'mesaj' }],
    ['05321240043', { consentDate: '2099-01-01 00:00:00' }],
    ['05321240044', { consentDate: '28.11.2026 09:00' }],
    ['05321240045', { consentDate: undefined, creationDate: undefined }],
    ['05321240046', { source: 'SOMETHING_NEW', transactionId: 'not a tx!' }],
    ['05321240047', { creationDate: '2030-01-01 00:00:00' }],
    ['05321240048', { recipient: 905321240048 }],
    ['05321240049', { recipient: '+9005321240049' }],
    ['05321240050', { recipientType: 'bireysel', consentDate: '2010-01-01 00:00:00' }],
  ];
  // an ONAY held first for each, which the RET must override
  const onays = forms.map(([n]) => ({ ...base, recipient: `+9${n}`, status: 'ONAY', source: 'IYS_WEB', consentDate: '2026-11-28 08:00:00', creationDate: '2026-11-28 08:00:01' }));
  t.match((await g.push(onays)).body, { applied: forms.length });
  const rets = forms.map(([n, over]) => ({ ...base, recipient: `+9${n}`, ...over }));
  const r = await g.push(rets);
  t.equal(r.status, 200);
  t.match(r.body, { received: forms.length, applied: forms.length, deadLettered: 0 });
  for (const [n, over] of forms) t.same(await g.check(n).then((x) => [x.decision, x.reason]), ['BLOCK', 'CONSENT_RET'], JSON.stringify(over));

  const unkeyable = [
    { ...base, recipient: 'not a number' }, { ...base, type: 'FAX' }, { ...base, status: 'MAYBE' }, { ...base, recipient: '+905321240051', brandCode: 42 },
    { ...base, recipient: '+905321240052', status: 'ONAY', source: 'NOPE' },
  ];
  const u = await g.push(unkeyable);
  t.equal(u.status, 200);
  t.match(u.body, { applied: 0, deadLettered: 5 });
  const st = await g.call('GET', '/v1/sync/status');
  t.same(st.body.deadLetters.openByReason, { future_date: 0, invalid_field: 1, unkeyable: 3, unknown_brand: 1 });
});

t.test('variant: `iys-gate sync status` shows the dead letters and the clock skew', async (t) => {
  const g = await setup(t);
  await seed(g.sim, '+905321240061', 'ONAY', 'IYS_WEB');
  await g.sim.advance(61 * 60_000);
  await g.app.iys.pullAll();
  const root = new URL('../..', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, ['bin/iys-gate.js', 'sync', 'status', '--url', g.address], {
    cwd: root, env: { ...process.env, IYS_GATE_API_KEY: KEY }, timeout: 30_000,
  });
  t.match(stdout, /dead letters: 1 open \(future_date 1\), 0 applied on retry, 1 recorded/);
  t.match(stdout, /brand 700001: .* dead letters 1/);
  t.match(stdout, /pull future_date \(consentDate\): ONAY MESAJ \*\*\*61/, 'the item, recipient masked');
  t.notMatch(stdout, /905321240061/);
  t.match(stdout, /clock skew against İYS: \d+\.\d s  WARNING: past the bound/);
});
