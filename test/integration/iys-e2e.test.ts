// End-to-end: the gateway against the İYS simulator over real sockets (issue 6).
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { GatewayConfigInput } from '../../src/config/schema.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { KeyRing } from '../../src/plugins/api-keys.ts';
import { DEMO, startTestSimulator, type TestSimulator } from '../../src/simulator/testing.ts';

const KEY = 'e2e-key-0123456789abcdef';
const PUSH = { username: 'iys-push', password: 'push-secret-123' };
const BRAND = DEMO.brandCode;

async function setup(t: Test, opts: { clockStartAt?: string; config?: GatewayConfigInput; dataDir?: string } = {}) {
  const sim: TestSimulator = await startTestSimulator({ pushAllowHttp: true, batchDelayMs: 1000, ...(opts.clockStartAt ? { clockStartAt: opts.clockStartAt, clockFrozen: true } : {}) });
  t.teardown(() => sim.close());
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'iysgate-e2e-'));
  if (!opts.dataDir) t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({
    env: { IYS_GATE_API_KEY: KEY },
    overrides: {
      dataDir, logLevel: 'silent',
      iys: {
        baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, brands: [BRAND],
        push: PUSH, pullIntervalMs: 0, uploadIntervalMs: 0, batchPollAfterMs: 1000, uploadRetryBaseMs: 10,
      },
      ...opts.config,
    },
  });
  const store = new MemoryStore({ dataDir: join(dataDir, 'mirror') });
  await store.open();
  const now = () => sim.ctx.clock.nowMs();
  const app: FastifyInstance = await buildApp(config, { store, keys: new KeyRing(config), logger: false, now });
  t.teardown(async () => { await app.close(); await store.close(); });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  t.equal(app.checks.isStale(), true, 'with İYS configured and never pulled, the mirror is stale (fail closed)');
  await app.iys.pullAll(); // bootstrap: a first complete pull makes the mirror fresh
  const call = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
    const r = await app.inject({ method, url, headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}) });
    return { status: r.statusCode, body: r.json() };
  };
  const check = async (recipient: string, type = 'MESAJ') => (await call('POST', '/v1/check', { brandCode: BRAND, recipient, type })).body as { decision: string; reason: string; asOf: string | null };
  return { sim, app, store, address, call, check, now, dataDir };
}

t.test('company consent → İYS → mirror; citizen refusal through İYS → blocked via push within 1 s, and via pull after the lag', async (t) => {
  const { sim, app, address, call, check } = await setup(t);
  await app.iys.client!.registerPush(BRAND, [{ url: `${address}/v1/iys/push`, type: 'MESAJ', username: PUSH.username, password: PUSH.password }]);

  // the company collects an ONAY: strict mode, it counts only once İYS accepted it
  const onay = await call('POST', '/v1/consents', { brandCode: BRAND, recipient: '05321110101', type: 'MESAJ', status: 'ONAY', source: 'HS_WEB', consentDate: sim.iysNow(-60_000) });
  t.equal(onay.status, 202);
  t.equal(onay.body.effective, false);
  t.equal((await check('05321110101')).reason, 'NO_CONSENT', 'not consent before İYS accepted it');
  await app.iys.uploader!.tick();
  const done = (await app.iys.outbox.get(onay.body.id))!;
  t.equal(done.state, 'done');
  t.equal(done.outcome, 'registered');
  t.match(done.transactionId, /^[0-9a-f]{64}$/);
  t.same(await check('05321110101').then((r) => [r.decision, r.reason]), ['ALLOW', 'CONSENT_ONAY']);

  // the citizen refuses through İYS's mobile app: push reaches the gateway
  const started = Date.now();
  const act = await sim.http('POST', '/_sim/citizen', { brandCode: BRAND, recipient: '+905321110101', type: 'MESAJ', recipientType: 'BIREYSEL', status: 'RET', source: 'IYS_MOBIL' });
  t.equal(act.status, 201);
  let blocked = false;
  while (Date.now() - started < 1000) {
    if ((await check('05321110101')).decision === 'BLOCK') { blocked = true; break; }
    await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(blocked, `blocked through push within 1 s (${Date.now() - started} ms)`);
  t.equal((await check('05321110101')).reason, 'CONSENT_RET');

  // an ARAMA refusal has no push registration: only pull sees it, once the 60-minute lag passed
  await sim.http('POST', '/_sim/movements', { brandCode: BRAND, recipient: '+905321110102', type: 'ARAMA', recipientType: 'BIREYSEL', status: 'ONAY', source: 'HS_CAGRI_MERKEZI', consentDate: sim.iysNow(-3_600_000 * 3), creationDate: sim.iysNow(-3_600_000 * 3) });
  await app.iys.pullAll();
  t.equal((await check('05321110102', 'ARAMA')).decision, 'ALLOW', 'older consent arrives through pull');
  await sim.http('POST', '/_sim/citizen', { brandCode: BRAND, recipient: '+905321110102', type: 'ARAMA', recipientType: 'BIREYSEL', status: 'RET', source: 'IYS_KISAMESAJ' });
  await app.iys.pullAll();
  t.equal((await check('05321110102', 'ARAMA')).decision, 'ALLOW', 'within the feed lag the refusal is not visible yet');
  await sim.advance(61 * 60_000);
  await app.iys.pullAll();
  t.same(await check('05321110102', 'ARAMA').then((r) => [r.decision, r.reason]), ['BLOCK', 'CONSENT_RET'], 'pull applies it after the lag');
  const status = await call('GET', '/v1/sync/status');
  t.equal(status.body.brands[0].brandCode, BRAND);
  t.type(status.body.brands[0].cursors.IYS, 'string', 'cursor stored');
  t.type(status.body.asOf, 'string', 'asOf set by a complete pull');
});

t.test('company refusal → blocked at once → registered in İYS before its deadline → visible in the feed', async (t) => {
  const { sim, app, call, check } = await setup(t);
  await sim.http('POST', '/_sim/movements', { brandCode: BRAND, recipient: '+905321110201', type: 'MESAJ', recipientType: 'BIREYSEL', status: 'ONAY', source: 'HS_WEB', consentDate: sim.iysNow(-86_400_000), creationDate: sim.iysNow(-86_400_000) });
  await sim.advance(61 * 60_000);
  await app.iys.pullAll();
  t.equal((await check('05321110201')).decision, 'ALLOW');
  const rej = await call('POST', '/v1/rejections', { brandCode: BRAND, recipient: '05321110201', type: 'MESAJ' });
  t.equal(rej.status, 201);
  t.equal((await check('05321110201')).reason, 'CONSENT_RET', 'blocked before İYS knows');
  const box = await call('GET', '/v1/outbox?state=pending');
  t.equal(box.body.summary.pending, 1);
  t.equal(box.body.items[0].deadline, rej.body.reportDeadline);
  await app.iys.uploader!.tick();
  const item = (await app.iys.outbox.list())[0]!;
  t.same([item.state, item.outcome], ['done', 'registered']);
  const today = new Date(sim.ctx.clock.nowMs() + 3 * 3_600_000).toISOString().slice(0, 10);
  t.ok(today <= rej.body.reportDeadline, 'registered on or before its deadline');
  const inIys = await sim.http('GET', `/_sim/consents?brandCode=${BRAND}`);
  t.ok(JSON.stringify(inIys.body).includes('+905321110201'), 'İYS holds it');
  await sim.advance(61 * 60_000);
  await app.iys.pullAll();
  const rec = await call('GET', `/v1/consents?brandCode=${BRAND}&type=MESAJ&recipient=05321110201`);
  t.equal(rec.body.current.status, 'RET');
  t.equal(rec.body.current.transactionId, item.transactionId, 'the feed shows the registered movement');
});

t.test('a consent collected on the Friday before Kurban Bayramı 2026 gets the right deadline', async (t) => {
  const { call } = await setup(t, { clockStartAt: '2026-05-22T15:00:00+03:00' });
  const r = await call('POST', '/v1/consents', { brandCode: BRAND, recipient: '05321110301', type: 'MESAJ', status: 'ONAY', source: 'HS_FIZIKSEL_ORTAM', consentDate: '2026-05-22 14:30:00' });
  t.equal(r.status, 202);
  t.equal(r.body.reportDeadline, '2026-06-01', 'Mon 25, Tue 26 (arife, counts), Mon 1 June');
  const late = await call('POST', '/v1/consents', { brandCode: BRAND, recipient: '05321110302', type: 'MESAJ', status: 'ONAY', source: 'HS_WEB', consentDate: '2026-05-14 10:00:00' });
  t.equal(late.status, 422, 'outside the three-business-day window (H467)');
  t.equal(late.body.code, 'GW_ERR_IYS_INVALID_CONSENT');
  t.match(late.body.message, /H467/);
});

t.test('İYS down for hours: the outbox waits with its deadline visible, then catches up without duplicates', async (t) => {
  const { sim, app, call, check } = await setup(t);
  await sim.http('POST', '/_sim/faults', { kind: 'status', status: 503, times: 1000 });
  const rej = await call('POST', '/v1/rejections', { brandCode: BRAND, recipient: '05321110401', type: 'MESAJ' });
  t.equal(rej.status, 201);
  for (let i = 0; i < 3; i++) { await app.iys.uploader!.tick(); await new Promise((r) => setTimeout(r, 30)); }
  const waiting = await call('GET', '/v1/outbox');
  t.equal(waiting.body.summary.pending, 1, 'still pending');
  t.equal(waiting.body.summary.nearestDeadline, rej.body.reportDeadline);
  t.ok(waiting.body.summary.secondsToNearestDeadline > 0);
  t.match(waiting.body.items[0].lastError.code, /GW_ERR_IYS_(UNAVAILABLE|RATE_LIMITED)/);
  t.equal((await check('05321110401')).decision, 'BLOCK', 'sending decisions keep working from the mirror');
  await sim.http('DELETE', '/_sim/faults');
  await new Promise((r) => setTimeout(r, 1200)); // past the back-off
  await app.iys.uploader!.tick();
  await app.iys.uploader!.tick();
  const item = (await app.iys.outbox.list())[0]!;
  t.same([item.state, item.outcome], ['done', 'nothing_to_revoke'], 'no record in İYS: H175 is terminal, not retried');
  const writes = (await sim.http('GET', `/_sim/consents?brandCode=${BRAND}`)).body;
  t.notOk(JSON.stringify(writes).includes('+905321110401'), 'nothing written twice (nor at all: nothing to revoke)');
});

t.test('a restart in the middle of a pull page loses and repeats nothing', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-e2e-restart-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const a = await setup(t, { dataDir });
  for (let i = 0; i < 30; i++) {
    await a.sim.http('POST', '/_sim/movements', { brandCode: BRAND, recipient: `+9053211105${String(i).padStart(2, '0')}`, type: 'MESAJ', recipientType: 'BIREYSEL', status: 'ONAY', source: 'HS_WEB', consentDate: a.sim.iysNow(-7_200_000), creationDate: a.sim.iysNow(-7_200_000) });
  }
  // crash after the page's movements are durable but before its cursor is stored
  const realSetMeta = a.store.setMeta.bind(a.store);
  let crashed = false;
  a.store.setMeta = async (name: string, value: string) => {
    if (!crashed && name.endsWith('HS.after')) { crashed = true; throw new Error('simulated crash before the cursor write'); }
    return realSetMeta(name, value);
  };
  await a.app.iys.pullAll();
  t.ok(crashed);
  t.equal(await a.store.size(), 30, 'page applied');
  t.equal(a.app.iys.sync.get(BRAND)!.status().cursors.HS, null, 'cursor not advanced');
  await a.app.iys.pullAll(); // the same page again
  const st = a.app.iys.sync.get(BRAND)!.status();
  t.type(st.cursors.HS, 'string');
  t.equal(await a.store.size(), 30, 'nothing doubled');
  const hist = await a.call('GET', `/v1/consents?brandCode=${BRAND}&type=MESAJ&recipient=%2B905321110500`);
  t.equal(hist.body.movements.length, 1, 'the repeated movement is a duplicate, not a second movement');
});

t.test('daily reconciliation: SHA-384 agreement checked, movements the mirror missed applied, differences reported', async (t) => {
  const { sim, app, call, store } = await setup(t, { clockStartAt: '2026-03-10T10:00:00+03:00' });
  for (let i = 0; i < 5; i++) {
    await sim.http('POST', '/_sim/movements', { brandCode: BRAND, recipient: `+9053211106${String(i).padStart(2, '0')}`, type: 'MESAJ', recipientType: 'BIREYSEL', status: 'ONAY', source: 'HS_WEB', consentDate: '2026-03-10 09:00:00', creationDate: '2026-03-10 09:00:01' });
  }
  const early = await call('POST', `/v1/sync/reconcile?brandCode=${BRAND}&reportDate=2026-03-10`);
  t.equal(early.body.status, 'not-ready', 'the day is not closed yet');
  await sim.advance(24 * 3_600_000);
  const r = await call('POST', `/v1/sync/reconcile?brandCode=${BRAND}&reportDate=2026-03-10&confirm=true`);
  t.equal(r.status, 200);
  t.equal(r.body.status, 'reconciled');
  t.equal(r.body.rows, 5);
  t.equal(r.body.sha384, r.body.iysHash);
  t.equal(r.body.missingApplied, 5, 'nothing had been pulled: all five applied from the file');
  t.same(r.body.differences, []);
  t.equal(r.body.confirmed, true);
  t.equal(await store.size(), 5);
  const again = await call('POST', `/v1/sync/reconcile?brandCode=${BRAND}&reportDate=2026-03-10`);
  t.equal(again.body.missingApplied, 0, 'idempotent');
  const none = await call('POST', `/v1/sync/reconcile?brandCode=${BRAND}&reportDate=2026-03-09`);
  t.equal(none.body.status, 'empty');
  const bad = await call('POST', `/v1/sync/reconcile?brandCode=${BRAND}&reportDate=yesterday`);
  t.equal(bad.status, 400);
  t.equal(bad.body.field, 'reportDate');
  void app;
});

t.test('HTTP bulk upload: 202 with a job, validated rows registered, per-line report', async (t) => {
  const { sim, app } = await setup(t);
  const csv = ['recipient,type,source,status,consentDate,recipientType',
    `05321110701,MESAJ,HS_WEB,ONAY,${sim.iysNow(-3_600_000)},BIREYSEL`,
    `05321110702,MESAJ,HS_2015,ONAY,2014-01-01 10:00:00,BIREYSEL`,
    `ayse@example.com,EPOSTA,HS_WEB,ONAY,${sim.iysNow(-3_600_000)},BIREYSEL`].join('\n') + '\n';
  const res = await app.inject({ method: 'POST', url: `/v1/iys/uploads?brandCode=${BRAND}`, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'text/csv' }, payload: csv });
  t.equal(res.statusCode, 202);
  const { id } = res.json() as { id: string };
  let job: { state: string; summary?: { registered: number; invalid: number } } = { state: 'running' };
  for (let i = 0; i < 100 && job.state === 'running'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    job = (await app.inject({ method: 'GET', url: `/v1/iys/uploads/${id}`, headers: { authorization: `Bearer ${KEY}` } })).json();
  }
  t.equal(job.state, 'done');
  t.match(job.summary, { registered: 2, invalid: 1 });
  const rep = await app.inject({ method: 'GET', url: `/v1/iys/uploads/${id}/report`, headers: { authorization: `Bearer ${KEY}` } });
  t.equal(rep.statusCode, 200);
  t.match(rep.body, /^line,recipient,result,code,transactionId,message\n2,\+905321110701,registered,,[0-9a-f]{64},/);
  t.match(rep.body, /\n3,05321110702,invalid,H155,/);
  const missing = await app.inject({ method: 'GET', url: '/v1/iys/uploads/00000000-0000-4000-8000-000000000000', headers: { authorization: `Bearer ${KEY}` } });
  t.equal(missing.statusCode, 404);
});

t.test('a gap longer than the feed window is detected and reported; the outbox survives a crash', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-e2e-gap-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const a = await setup(t, { dataDir });
  t.equal(a.app.iys.sync.get(BRAND)!.status().gap, false);
  const rej = await a.call('POST', '/v1/rejections', { brandCode: BRAND, recipient: '05321110801', type: 'MESAJ' });
  t.equal(rej.status, 201);
  await a.sim.advance(8 * 86_400_000); // the gateway stays down 8 days (no pull)
  const st = await a.call('GET', '/v1/sync/status');
  t.equal(st.body.brands[0].gap, true, 'gap detected');
  t.equal(st.body.stale, true, 'the mirror is stale: TICARI blocked');
  const ready = await a.app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 503);
  t.equal(ready.json().mirror.gap, true, '/readyz reports the gap');
  // crash: a new outbox over the same directory, without the old one's clean close
  const { Outbox } = await import('../../src/iys/outbox.ts');
  const reopened = new Outbox({ dir: join(dataDir, 'outbox') });
  await reopened.open();
  t.teardown(() => reopened.close());
  const items = await reopened.list();
  t.equal(items.length, 1, 'the acknowledged refusal is in the outbox after a crash');
  t.equal(items[0]!.consent.recipient, '+905321110801');
  t.equal(items[0]!.deadline, rej.body.reportDeadline);
});

t.test('the daily job reconciles yesterday once per brand', async (t) => {
  const { sim, app, call } = await setup(t, { clockStartAt: '2026-03-10T10:00:00+03:00' });
  await sim.http('POST', '/_sim/movements', { brandCode: BRAND, recipient: '+905321110901', type: 'MESAJ', recipientType: 'BIREYSEL', status: 'ONAY', source: 'HS_WEB', consentDate: '2026-03-10 09:00:00', creationDate: '2026-03-10 09:00:01' });
  await sim.advance(24 * 3_600_000);
  await app.iys.reconcileYesterday();
  const st = await call('GET', '/v1/sync/status');
  t.match(st.body.reconciliations[String(BRAND)], { reportDate: '2026-03-10', status: 'reconciled', rows: 1, missingApplied: 1 });
  await app.iys.pullAll(); // a day passed: fresh again
  t.equal((await call('POST', '/v1/check', { brandCode: BRAND, recipient: '05321110901', type: 'MESAJ' })).body.decision, 'ALLOW');
  const calls = sim.ctx.stats;
  const before = JSON.stringify(calls);
  await app.iys.reconcileYesterday(); // already done for that day: no İYS call
  t.equal(JSON.stringify(sim.ctx.stats), before);
});

t.test('many refusals at once go as a v2 batch; results polled: registered and nothing_to_revoke', async (t) => {
  const { sim, app, call } = await setup(t);
  const numbers = Array.from({ length: 30 }, (_, i) => `+90532111${String(1000 + i)}`);
  // İYS holds an ONAY for the first 20: their refusals register; the last 10 have nothing to revoke (H175)
  for (const n of numbers.slice(0, 20)) {
    await sim.http('POST', '/_sim/movements', { brandCode: BRAND, recipient: n, type: 'MESAJ', recipientType: 'BIREYSEL', status: 'ONAY', source: 'HS_WEB', consentDate: sim.iysNow(-86_400_000), creationDate: sim.iysNow(-86_400_000) });
  }
  for (const n of numbers) t.equal((await call('POST', '/v1/rejections', { brandCode: BRAND, recipient: n, type: 'MESAJ' })).status, 201);
  await app.iys.uploader!.tick();
  const submitted = await app.iys.outbox.list((i) => i.state === 'submitted');
  t.equal(submitted.length, 30, 'one batch request');
  t.equal(new Set(submitted.map((i) => i.requestId)).size, 1);
  await sim.advance(2000); // past the simulator's batch delay and the poll wait
  await new Promise((r) => setTimeout(r, 1100));
  await app.iys.uploader!.tick();
  const items = await app.iys.outbox.list();
  t.equal(items.filter((i) => i.outcome === 'registered').length, 20);
  t.equal(items.filter((i) => i.outcome === 'nothing_to_revoke').length, 10);
  t.ok(items.every((i) => i.state === 'done'));
  t.match(items.find((i) => i.outcome === 'registered')!.transactionId, /^[0-9a-f]{64}$/);
});
