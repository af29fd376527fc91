import { createServer, type IncomingMessage } from 'node:http';
import t, { type Test } from 'tap';
import { startTestSimulator, DEMO } from '../../src/simulator/testing.ts';

const P = `/sps/${DEMO.iysCode}/brands/${DEMO.brandCode}`;

/** A receiver on 127.0.0.1:0 recording requests; `mode` controls its answers. */
async function receiver(t: Test) {
  const got: { auth: string | undefined; body: any }[] = [];
  const state = { mode: 'ok' as 'ok' | 'fail' | 'hang' };
  const srv = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      got.push({ auth: req.headers.authorization, body: JSON.parse(data) });
      if (state.mode === 'hang') return;
      res.writeHead(state.mode === 'ok' ? 200 : 500).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => { srv.closeAllConnections(); srv.close(); });
  const port = (srv.address() as { port: number }).port;
  return { got, state, url: `http://127.0.0.1:${port}/iys/push` };
}

t.test('registration: https required (H531), credentials required (H093), test payload sent', async (t) => {
  const strict = await startTestSimulator();
  t.teardown(() => strict.close());
  const auth1 = { authorization: `Bearer ${await strict.token()}` };
  const h531 = await strict.http('POST', `${P}/push/registration`, { connection: [{ url: 'http://example.com/x', type: 'MESAJ', username: 'u', password: 'p' }] }, auth1);
  t.equal(h531.status, 422);
  t.equal(h531.body.errors[0].code, 'H531', 'C32');
  const h093 = await strict.http('POST', `${P}/push/registration`, { connection: [{ url: 'https://example.com/x', type: 'MESAJ', username: '', password: 'p' }] }, auth1);
  t.same(h093.body.errors[0].location, ['username']);

  const rcv = await receiver(t);
  const sim = await startTestSimulator({ pushAllowHttp: true });
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  const reg = await sim.http('POST', `${P}/push/registration`, { connection: [{ url: rcv.url, type: 'MESAJ', username: 'gate', password: 's3cret' }] }, auth);
  t.equal(reg.status, 200);
  t.equal(rcv.got.length, 1);
  t.equal(rcv.got[0]!.body.list[0].recipient, 'pushtest@iys.org.tr');
  t.equal(rcv.got[0]!.auth, `Basic ${Buffer.from('gate:s3cret').toString('base64')}`);
  const list = await sim.http('GET', `${P}/push/registration`, undefined, auth);
  t.same(list.body.map((r: { url: string; type: string; status: string }) => [r.url, r.type, r.status]), [[rcv.url, 'MESAJ', 'Bağlantı Oluşturuldu']]);

  rcv.state.mode = 'fail';
  const failed = await sim.http('POST', `${P}/push/registration`, { connection: [{ url: `${rcv.url}2`, type: 'MESAJ', username: 'gate', password: 's3cret' }] }, auth);
  t.equal(failed.body.errors[0].code, 'H530');
  rcv.state.mode = 'ok';
  const un = await sim.http('POST', `${P}/push/unregistration`, { url: rcv.url, type: 'MESAJ', username: 'gate', password: 's3cret' }, auth);
  t.equal(un.status, 200);
  t.same((await sim.http('GET', `${P}/push/registration`, undefined, auth)).body, []);
});

t.test('delivery: IYS_* movements pushed with Basic auth; provider writes are not; 5 s timeout → recorded failure', async (t) => {
  const rcv = await receiver(t);
  const sim = await startTestSimulator({ pushAllowHttp: true, pushTimeoutMs: 200, clockStartAt: '2026-05-12T10:00:00+03:00' });
  t.teardown(() => sim.close());
  const auth = { authorization: `Bearer ${await sim.token()}` };
  await sim.http('POST', `${P}/push/registration`, { connection: [{ url: rcv.url, type: 'MESAJ', username: 'gate', password: 'pw' }] }, auth);
  rcv.got.length = 0;
  await sim.http('POST', `${P}/consents`, { recipient: '+905321234567', type: 'MESAJ', source: 'HS_WEB', status: 'ONAY', consentDate: sim.iysNow(-60_000), recipientType: 'BIREYSEL' }, auth);
  const act = await sim.http('POST', '/_sim/citizen', { brandCode: DEMO.brandCode, recipient: '+905321234567', type: 'MESAJ', status: 'RET', source: 'IYS_MOBIL' });
  t.equal(act.status, 201);
  await sim.flushPush();
  t.equal(rcv.got.length, 1, 'only the IYS_ movement is pushed');
  const item = rcv.got[0]!.body.list[0];
  t.same(
    { iysCode: item.iysCode, brandCode: item.brandCode, recipient: item.recipient, status: item.status, source: item.source, transactionId: item.transactionId },
    { iysCode: DEMO.iysCode, brandCode: DEMO.brandCode, recipient: '+905321234567', status: 'RET', source: 'IYS_MOBIL', transactionId: act.body.transactionId },
  );
  const closure = await sim.http('POST', '/_sim/citizen', { brandCode: DEMO.brandCode, recipient: '+905321234567', type: 'MESAJ', status: 'RET', source: 'IYS_AHS_HAT_KAPATMA' });
  t.equal(closure.body.consentDate, act.body.consentDate, 'line closure carries the stored consentDate');
  await sim.flushPush();
  rcv.state.mode = 'hang';
  await sim.http('POST', '/_sim/citizen', { brandCode: DEMO.brandCode, recipient: '+905321234567', type: 'MESAJ', status: 'ONAY', source: 'IYS_WEB' });
  const d = await sim.http('GET', '/_sim/push/deliveries');
  t.same(d.body.map((x: { ok: boolean; error: string | null }) => [x.ok, x.error]), [[true, null], [true, null], [false, 'timeout']]);
});
