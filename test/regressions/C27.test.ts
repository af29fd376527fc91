/**
 * C27 (field-cases.md): hop-by-hop headers are never copied upstream (undici refuses
 * `connection`; `keep-alive`/`transfer-encoding` desync framing). Inbound `Connection:
 * keep-alive, X-Trace`, `X-Trace: 1`, `Keep-Alive: timeout=5`, `TE: trailers` → stripped, and every
 * header named in `Connection` too; the request succeeds.
 */
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { forwardRequestHeaders, forwardResponseHeaders } from '../../src/transports/http-proxy/hop-by-hop.ts';
import { BRAND, KEY, makeProxy, startStub } from '../transports/harness.ts';

t.test('the case\'s inbound headers over a real socket: request succeeds, none reaches the upstream', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [{ name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND }], { listen: true });
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }]);
  const body = JSON.stringify({ msgheader: 'F', iysfilter: '11', messages: [{ msg: 'x', no: '5550000001' }, { msg: 'x', no: '5550000002' }] });
  const u = new URL(gw.url);
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const r = httpRequest({
      host: u.hostname, port: u.port, method: 'POST', path: '/proxy/netgsm/sms/rest/v2/send',
      headers: {
        'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'X-IYS-Gate-Key': KEY,
        Connection: 'keep-alive, X-Trace', 'X-Trace': '1', 'Keep-Alive': 'timeout=5', TE: 'trailers',
        'Proxy-Authorization': 'Basic eDp5', Upgrade: 'h2c', Authorization: 'Basic dXNlcjpwYXNz',
      },
    }, (res) => { let s = ''; res.setEncoding('utf8'); res.on('data', (c) => (s += c)); res.on('end', () => resolve({ status: res.statusCode!, text: s })); });
    r.on('error', reject);
    r.end(body);
  });
  t.equal(status, 200);
  t.equal(text, '{"code":"00","jobid":"J1","description":"queued"}');
  const got = stub.requests[0]!;
  for (const h of ['x-trace', 'keep-alive', 'te', 'proxy-authorization', 'upgrade', 'x-iys-gate-key']) t.notOk(got.headers[h], `${h} not forwarded`);
  t.not(got.headers.connection, 'keep-alive, X-Trace', 'inbound Connection not copied');
  t.equal(got.headers.host, new URL(stub.url).host, 'host is the upstream\'s');
  t.equal(got.headers.authorization, 'Basic dXNlcjpwYXNz', 'end-to-end auth kept');
});

t.test('forwardRequestHeaders / forwardResponseHeaders', async (t) => {
  t.same(forwardRequestHeaders({
    connection: 'keep-alive, X-Trace', 'x-trace': '1', 'keep-alive': 'timeout=5', te: 'trailers', trailer: 'x', 'transfer-encoding': 'chunked',
    upgrade: 'h2c', host: 'gw', 'content-length': '26', 'proxy-authorization': 'p', 'proxy-authenticate': 'p', expect: '100-continue',
    'x-iys-gate-key': 'k', 'x-iys-message-type': 'TICARI', authorization: 'Bearer SG.x', 'content-type': 'application/json', 'x-other': ['a', 'b'],
  }), { authorization: 'Bearer SG.x', 'content-type': 'application/json', 'x-other': ['a', 'b'] });
  t.same(forwardResponseHeaders({ connection: 'close, x-up', 'x-up': '1', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'content-length': '2', 'content-type': 'text/plain', 'x-message-id': 'm' }),
    { 'content-length': '2', 'content-type': 'text/plain', 'x-message-id': 'm' });
});
