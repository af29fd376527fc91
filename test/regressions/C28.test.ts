/**
 * C28 (field-cases.md): the upstream closes idle keep-alive sockets before the client does; the
 * next request on that socket fails, and blindly retrying an SMS POST can send it twice.
 * - the pool's keep-alive is shorter than the upstream's idle close: a request after the idle
 *   gap goes on a fresh socket and succeeds;
 * - a POST whose socket dies after the request was written is never retried: exactly one request
 *   reached the upstream and the sender gets 502 `delivery_unknown` with the request id;
 * - no response in time → 504 `delivery_unknown`; refused connection → 503 `not_sent`.
 * Times are scaled down (upstream idle close 300 ms, gateway keep-alive 100 ms) to keep the test fast.
 */
import t from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamClient } from '../../src/transports/http-proxy/upstream-client.ts';
import { upstreamSchema } from '../../src/transports/http-proxy/upstream-config.ts';
import { BRAND, KEY, makeProxy } from '../transports/harness.ts';

const BODY = { msgheader: 'F', iysfilter: '0', messages: [{ msg: 'Kargonuz yolda', no: '5550000001' }] };
const H = { 'content-type': 'application/json', 'x-iys-gate-key': KEY };

/** An upstream that closes a socket idle for `idleMs` and advertises no Keep-Alive timeout. */
async function idleClosingUpstream(t: { teardown(fn: () => unknown): void }, idleMs: number) {
  const sockets = new Set<Socket>();
  let requests = 0;
  const timers = new Map<Socket, NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    clearTimeout(timers.get(req.socket));
    sockets.add(req.socket);
    requests++;
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end('{"code":"00","jobid":"J' + requests + '"}');
      res.on('finish', () => timers.set(req.socket, setTimeout(() => req.socket.destroy(), idleMs)));
    });
  });
  server.keepAliveTimeout = 0; // no `Keep-Alive: timeout=` hint: the client must not rely on one
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { for (const x of timers.values()) clearTimeout(x); server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets, count: () => requests };
}

t.test('keep-alive shorter than the upstream idle close: second request after the gap succeeds on a fresh socket', async (t) => {
  const up = await idleClosingUpstream(t, 300);
  const gw = await makeProxy(t, [{ name: 'sms', adapter: 'netgsm', url: up.url, brandCode: BRAND, keepAliveTimeoutMs: 100 }]);
  const a = await gw.app.inject({ method: 'POST', url: '/proxy/sms/sms/rest/v2/send', headers: H, payload: BODY });
  t.equal(a.statusCode, 200);
  await sleep(200); // gateway dropped its idle socket at 100 ms, before the upstream's 300 ms close
  const b = await gw.app.inject({ method: 'POST', url: '/proxy/sms/sms/rest/v2/send', headers: H, payload: BODY });
  t.equal(b.statusCode, 200);
  t.equal(b.body, '{"code":"00","jobid":"J2"}');
  t.equal(up.count(), 2, 'each message sent once');
  t.equal(up.sockets.size, 2, 'the second request used a new socket');
});

t.test('socket dies after the POST was written → 502 delivery_unknown, never retried', async (t) => {
  let seen = 0;
  const server = createServer((req) => { req.resume(); req.on('end', () => { seen++; req.socket.destroy(); }); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const gw = await makeProxy(t, [{ name: 'sms', adapter: 'netgsm', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, brandCode: BRAND }]);
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/sms/sms/rest/v2/send', headers: H, payload: BODY });
  t.equal(res.statusCode, 502);
  const b = res.json();
  t.match(b, { statusCode: 502, code: 'GW_ERR_UPSTREAM_DELIVERY_UNKNOWN', error: 'Bad Gateway', outcome: 'delivery_unknown' });
  t.match(b.message, /delivery unknown, not retried/);
  t.equal(b.requestId, res.headers['x-iys-gate-request-id'], 'the request id to reconcile with the provider');
  await sleep(50);
  t.equal(seen, 1, 'the upstream saw the message exactly once');
  t.ok(gw.logs.some((l) => l.includes('GW_ERR_UPSTREAM_DELIVERY_UNKNOWN')), 'cause logged');
});

t.test('no response in time → 504 delivery_unknown, one request', async (t) => {
  let seen = 0;
  const server = createServer((req) => { seen++; req.resume(); /* never answers */ });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const gw = await makeProxy(t, [{ name: 'sms', adapter: 'netgsm', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, brandCode: BRAND, headersTimeoutMs: 150 }]);
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/sms/sms/rest/v2/send', headers: H, payload: BODY });
  t.equal(res.statusCode, 504);
  t.match(res.json(), { code: 'GW_ERR_UPSTREAM_TIMEOUT', outcome: 'delivery_unknown' });
  t.equal(seen, 1);
});

t.test('connection refused → 503 not_sent', async (t) => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const gw = await makeProxy(t, [{ name: 'sms', adapter: 'netgsm', url: `http://127.0.0.1:${port}`, brandCode: BRAND }]);
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/sms/sms/rest/v2/send', headers: H, payload: BODY });
  t.equal(res.statusCode, 503);
  t.match(res.json(), { code: 'GW_ERR_UPSTREAM_UNAVAILABLE', outcome: 'not_sent' });
});

t.test('error mapping of the upstream client', async (t) => {
  const c = new UpstreamClient(upstreamSchema.parse({ name: 'x', adapter: 'netgsm', url: 'http://127.0.0.1:9', brandCode: 1, connectTimeoutMs: 1234 }));
  t.teardown(() => c.close());
  const m = (code: string) => c.mapError(Object.assign(new Error(code), { code }));
  t.match(m('UND_ERR_CONNECT_TIMEOUT'), { code: 'GW_ERR_UPSTREAM_CONNECT_TIMEOUT', statusCode: 504, message: /1234 ms; nothing was sent/ });
  t.match(m('ECONNREFUSED'), { code: 'GW_ERR_UPSTREAM_UNAVAILABLE', statusCode: 503 });
  t.match(m('UND_ERR_HEADERS_TIMEOUT'), { code: 'GW_ERR_UPSTREAM_TIMEOUT', statusCode: 504 });
  t.match(m('UND_ERR_SOCKET'), { code: 'GW_ERR_UPSTREAM_DELIVERY_UNKNOWN', statusCode: 502 });
  t.match(m('ECONNRESET'), { code: 'GW_ERR_UPSTREAM_DELIVERY_UNKNOWN', statusCode: 502 });
  t.equal(UpstreamClient.deliveryUnknown(m('ECONNRESET')), true);
  t.equal(UpstreamClient.deliveryUnknown(m('ECONNREFUSED')), false);
});
