/**
 * Relaying the provider's answer: large/chunked bodies are streamed back byte for byte,
 * non-send requests (GET with query) pass through, and removal reports expire.
 */
import t from 'tap';
import { RemovalReports, type RemovalReport } from '../../src/check/removal-reports.ts';
import { BRAND, KEY, makeProxy, startStub } from './harness.ts';

t.test('a 200 KB chunked answer is streamed back unchanged; GET with query passes through', async (t) => {
  const big = Buffer.alloc(200 * 1024, 'a');
  const stub = await startStub(t, (r, res) => {
    res.setHeader('content-type', 'text/plain');
    if (r.method === 'GET') { res.end(`got ${r.url}`); return; }
    res.write(big.subarray(0, 1000)); setImmediate(() => res.end(big.subarray(1000)));
  });
  const gw = await makeProxy(t, [{ name: 'n', adapter: 'netgsm', url: stub.url, brandCode: BRAND }]);
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }]);
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/n/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY },
    payload: { msgheader: 'F', iysfilter: '11', messages: [{ msg: 'x', no: '5550000001' }] } });
  t.equal(res.statusCode, 200);
  t.equal(res.rawPayload.length, big.length);
  t.ok(res.rawPayload.equals(big), 'byte-exact');
  t.notOk(res.headers['transfer-encoding'] === 'chunked' && res.headers['content-length'], 'not both framings');
  const g = await gw.app.inject({ method: 'GET', url: '/proxy/n/sms/rest/v2/msgheader?appname=a&x=%C3%A7', headers: { 'x-iys-gate-key': KEY, authorization: 'Basic eDp5' } });
  t.equal(g.statusCode, 200);
  t.equal(g.body, 'got /sms/rest/v2/msgheader?appname=a&x=%C3%A7', 'query forwarded as received');
  t.equal(stub.requests[1]!.headers.authorization, 'Basic eDp5');
});

t.test('reports expire after the TTL and are bounded in number', async (t) => {
  let now = 0;
  const r = new RemovalReports({ ttlMs: 1000, maxEntries: 2, now: () => now });
  const mk = (id: string): RemovalReport => ({ id, upstream: 'u', brandCode: 1, requestId: 'r', createdAt: '', declaredMessageType: 'TICARI', checkedMessageType: 'TICARI',
    promotional: null, counts: { received: 1, forwarded: 0, removed: 1 }, removed: [], outcome: 'forwarded', upstreamStatus: 200, open: false });
  r.put(mk('a'));
  now = 999; t.ok(r.get('a'));
  now = 1001; t.equal(r.get('a'), null, 'expired');
  r.put(mk('b')); r.put(mk('c')); r.put(mk('d'));
  t.equal(r.get('b'), null, 'oldest evicted past maxEntries');
  t.ok(r.get('c')); t.ok(r.get('d'));
  t.match(r.newId(), /^[0-9a-f-]{36}$/);
});
