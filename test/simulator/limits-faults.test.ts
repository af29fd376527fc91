import t from 'tap';
import { startTestSimulator, DEMO } from '../../src/simulator/testing.ts';

const P = `/sps/${DEMO.iysCode}/brands/${DEMO.brandCode}`;
const key = { recipient: '+905321234567', type: 'MESAJ', recipientType: 'BIREYSEL' };

t.test('10 requests per second per IP, then 429 H124; the next second is free again', async (t) => {
  const sim = await startTestSimulator({ perSecondLimit: 10, clockStartAt: '2026-05-12T10:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` }; // the token call is request 1
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await sim.http('GET', `/sps/${DEMO.iysCode}/brands`, undefined, auth)).status);
  t.same(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 429]);
  const over = await sim.http('GET', `/sps/${DEMO.iysCode}/brands`, undefined, auth);
  t.same(over.body.errors[0], { code: 'H124', message: 'Saniyede kabul edilen istek limitine ulaşıldı. Lütfen daha sonra tekrar deneyiniz.' });
  await sim.advance(1000);
  t.equal((await sim.http('GET', `/sps/${DEMO.iysCode}/brands`, undefined, auth)).status, 200);
});

t.test('single status 1000/h (H086) and history 100/h (H089)', async (t) => {
  const sim = await startTestSimulator({ statusPerHourLimit: 3, historyPerHourLimit: 2, clockStartAt: '2026-05-12T10:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  const st = async () => (await sim.http('POST', `${P}/consents/status`, key, auth)).status;
  t.same([await st(), await st(), await st(), await st()], [200, 200, 200, 429]);
  const h = async () => sim.http('POST', `${P}/consents/history`, key, auth);
  t.equal((await h()).status, 200);
  t.equal((await h()).status, 200);
  const over = await h();
  t.equal(over.status, 429);
  t.equal(over.body.errors[0].code, 'H089');
  await sim.advance(3_600_001);
  t.equal(await st(), 200, 'window slides after an hour');
  t.equal(sim.ctx.config.statusPerHourLimit, 3);
});

t.test('defaults are İYS limits', async (t) => {
  const sim = await startTestSimulator({ perSecondLimit: 10 });
  t.teardown(() => sim.close());
  const c = sim.ctx.config;
  t.same([c.perSecondLimit, c.tokenPerHourLimit, c.statusPerHourLimit, c.historyPerHourLimit, c.accessTokenTtlMs, c.refreshTokenTtlMs, c.batchDelayMs, c.pushTimeoutMs],
    [10, 100, 1000, 100, 7_200_000, 14_400_000, 300_000, 5000]);
});

t.test('fault injection: 5xx, 429, slow answers, dropped connections; times and path filters', async (t) => {
  const sim = await startTestSimulator();
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  const brands = () => sim.http('GET', `/sps/${DEMO.iysCode}/brands`, undefined, auth);
  await sim.http('POST', '/_sim/faults', { kind: 'status', status: 503, times: 2, path: '/brands$' });
  const a = await brands();
  t.equal(a.status, 503);
  t.equal(a.body.errors[0].code, 'H192');
  t.equal((await brands()).status, 503);
  t.equal((await brands()).status, 200, 'fault used up after `times`');
  await sim.http('POST', '/_sim/faults', { kind: 'status', status: 429, times: 1 });
  t.equal((await brands()).body.errors[0].code, 'H124');
  await sim.http('POST', '/_sim/faults', { kind: 'delay', delayMs: 150, times: 1 });
  const t0 = Date.now();
  t.equal((await brands()).status, 200);
  t.ok(Date.now() - t0 >= 140, 'answered late');
  await sim.http('POST', '/_sim/faults', { kind: 'drop', times: 1 });
  await t.rejects(brands(), 'connection dropped');
  t.equal((await brands()).status, 200);
  await sim.http('POST', '/_sim/faults', { kind: 'status', status: 500 });
  t.equal((await sim.http('GET', '/_sim/faults')).body.length, 1);
  await sim.http('DELETE', '/_sim/faults');
  t.equal((await brands()).status, 200);
});

t.test('admin: clock moves and freezes; accounts can be added; demo account documented', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: '2026-05-12T10:00:00+03:00', clockFrozen: true });
  t.teardown(() => sim.close());
  t.same((await sim.http('GET', '/_sim/clock')).body, { now: '2026-05-12T07:00:00.000Z', iys: '2026-05-12 10:00:00', frozen: true });
  t.equal((await sim.http('POST', '/_sim/clock', { advanceMs: 90_000 })).body.iys, '2026-05-12 10:01:30');
  t.equal((await sim.http('POST', '/_sim/clock', { set: '2026-06-01T09:00:00+03:00' })).body.iys, '2026-06-01 09:00:00');
  const add = await sim.http('POST', '/_sim/accounts', { username: 'acme', password: 'pw', iysCode: 800001, brands: [{ brandCode: 800001, name: 'Acme', master: true }] });
  t.equal(add.status, 201);
  const tok = await sim.token('acme', 'pw');
  const b = await sim.http('GET', '/sps/800001/brands', undefined, { authorization: `Bearer ${tok}` });
  t.same(b.body.map((x: { brandCode: number }) => x.brandCode), [800001]);
  const list = await sim.http('GET', '/_sim/accounts');
  t.same(list.body.map((a: { username: string; password?: string }) => [a.username, a.password]), [['iys-demo', undefined], ['acme', undefined]]);
});

t.test('data directory: state survives a restart', async (t) => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'iys-sim-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const opts = { dataDir: dir, clockStartAt: '2026-05-12T10:00:00+03:00', clockFrozen: true };
  const a = await startTestSimulator(opts);
  const auth = { authorization: `Bearer ${await a.token()}` };
  const w = await a.http('POST', `${P}/consents`, { recipient: '+905321234567', type: 'MESAJ', source: 'HS_WEB', status: 'ONAY', consentDate: '2026-05-12 09:00:00' }, auth);
  t.equal(w.status, 200);
  await a.close();
  const b = await startTestSimulator(opts);
  t.teardown(() => b.close());
  const st = await b.http('POST', `${P}/consents/status`, key, { authorization: `Bearer ${await b.token()}` });
  t.equal(st.body.transactionId, w.body.transactionId);
  t.equal(st.body.status, 'ONAY');
});
