/**
 * The ARI event WebSocket through the gateway (issue 19): the real `ari-client` connects its
 * events socket (`/ari/events?app=…&api_key=user:pass`) to the gateway, which authorises it like
 * the REST requests and passes it to a stub Asterisk (a `ws` server); events reach the client,
 * originates still go through the screen, and a request sent over the socket itself (Asterisk 22
 * "REST over WebSocket", which could originate a call) closes it without reaching Asterisk.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { BRAND, KEY, makeProxy } from './harness.ts';

const require = createRequire(import.meta.url);
const ari = require('ari-client') as { connect(url: string, user: string, pass: string): Promise<AriClient> };
interface AriClient {
  channels: { originate(p: Record<string, unknown>): Promise<{ id: string }> };
  start(app: string): Promise<void>;
  stop(): void;
  on(ev: string, f: (e: Record<string, unknown>) => void): void;
}
interface WsSocket { on(ev: string, f: (...a: any[]) => void): void; once(ev: string, f: (...a: any[]) => void): void; send(d: string): void; close(): void; readyState: number }
const { WebSocket, WebSocketServer } = require('ws') as {
  WebSocket: new (url: string, opts?: { headers?: Record<string, string> }) => WsSocket;
  WebSocketServer: new (o: { noServer: true }) => { handleUpgrade(req: IncomingMessage, s: unknown, h: Buffer, cb: (ws: WsSocket) => void): void; close(): void };
};

const ONAY = '905550000001';
const RET = '905550000002';
const AUTH = 'Basic ' + Buffer.from('ariuser:aripass').toString('base64');

/** A stub Asterisk: api-docs (channels, events), originate, and the events WebSocket. */
async function stubAsterisk(t: Parameters<typeof makeProxy>[0]) {
  const rest: { method: string; url: string }[] = [];
  const upgrades: { url: string; headers: IncomingMessage['headers'] }[] = [];
  const fromClients: string[] = [];
  const sockets: WsSocket[] = [];
  let base = '';
  const doc = (extra: object) => JSON.stringify({ apiVersion: '8.0.0', swaggerVersion: '1.1', basePath: `${base}/ari`, ...extra });
  const server = createServer((req, res) => {
    rest.push({ method: req.method!, url: req.url! });
    res.setHeader('content-type', 'application/json');
    const path = req.url!.split('?')[0];
    if (req.headers.authorization !== AUTH) { res.statusCode = 401; res.end('{"message":"Authentication required"}'); return; }
    if (path === '/ari/api-docs/resources.json') { res.end(doc({ apis: [{ path: '/api-docs/channels.{format}', description: 'Channels' }, { path: '/api-docs/events.{format}', description: 'Events' }] })); return; }
    if (path === '/ari/api-docs/channels.json') {
      res.end(doc({
        resourcePath: '/api-docs/channels.{format}',
        apis: [{ path: '/channels', description: 'Active channels', operations: [{ httpMethod: 'POST', summary: 'originate', nickname: 'originate', responseClass: 'Channel',
          parameters: ['endpoint', 'extension', 'context', 'app'].map((name) => ({ name, paramType: 'query', required: name === 'endpoint', allowMultiple: false, dataType: 'string' })) }] }],
        models: { Channel: { id: 'Channel', properties: { id: { type: 'string', required: true }, name: { type: 'string', required: true } } } },
      }));
      return;
    }
    if (path === '/ari/api-docs/events.json') {
      res.end(doc({
        resourcePath: '/api-docs/events.{format}',
        apis: [{ path: '/events', description: 'Events from Asterisk', operations: [{ httpMethod: 'GET', summary: 'WebSocket', nickname: 'eventWebsocket', responseClass: 'Message',
          parameters: [{ name: 'app', paramType: 'query', required: true, allowMultiple: true, dataType: 'string' }] }] }],
        models: {
          Message: { id: 'Message', properties: { type: { type: 'string', required: true } } },
          StasisStart: { id: 'StasisStart', properties: { type: { type: 'string', required: true }, application: { type: 'string', required: true } } },
        },
      }));
      return;
    }
    if (req.method === 'POST' && path === '/ari/channels') { res.end(JSON.stringify({ id: '1700000000.9', name: 'PJSIP/trunk-00000002' })); return; }
    res.statusCode = 404; res.end('{"message":"Resource not found"}');
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    upgrades.push({ url: req.url!, headers: req.headers });
    const key = new URL(req.url!, 'http://x').searchParams.get('api_key');
    if (key !== 'ariuser:aripass') { (socket as { end(s: string): void }).end('HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: 35\r\n\r\n{"message":"Authentication failed"}'); return; }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      ws.on('message', (m: Buffer) => fromClients.push(m.toString()));
      ws.send(JSON.stringify({ type: 'StasisStart', application: 'dialer', timestamp: '2026-12-02T05:00:00.000+0000' }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(() => { for (const s of sockets) s.close(); wss.close(); server.closeAllConnections(); return new Promise<void>((r) => server.close(() => r())); });
  return { url: base, rest, upgrades, fromClients };
}

t.test('ari-client through the gateway: events arrive over the proxied WebSocket, originates are still screened', async (t) => {
  const ast = await stubAsterisk(t);
  const gw = await makeProxy(t, [{ name: 'pbx', adapter: 'asterisk-ari', url: ast.url, brandCode: BRAND, ariRoot: true, gatewayAuth: 'provider', providerUsers: ['ariuser'] }], { listen: true });
  await gw.seed([{ recipient: '+' + ONAY, status: 'ONAY', type: 'ARAMA' }, { recipient: '+' + RET, status: 'RET', type: 'ARAMA' }]);
  const client = await ari.connect(gw.url, 'ariuser', 'aripass');
  const started = new Promise<Record<string, unknown>>((resolve) => client.on('StasisStart', resolve));
  await client.start('dialer');
  const ev = await started;
  t.equal(ev.application, 'dialer', "Asterisk's event reached the client through the gateway");
  t.equal(ast.upgrades.length, 1);
  t.match(ast.upgrades[0]!.url, /^\/ari\/events\?app=dialer&api_key=ariuser%3Aaripass$|^\/ari\/events\?app=dialer&api_key=ariuser:aripass$/, 'the query (app, api_key) passed to Asterisk');
  t.equal(ast.upgrades[0]!.headers.host, new URL(ast.url).host, 'to Asterisk under its own host');

  const ok = await client.channels.originate({ endpoint: `PJSIP/trunk/${ONAY}`, app: 'dialer' });
  t.equal(ok.id, '1700000000.9');
  const refused = await client.channels.originate({ endpoint: `PJSIP/trunk/${RET}`, app: 'dialer' }).then(() => null, (e: Error) => e);
  t.match(String(refused?.message), /GW_ERR_UPSTREAM_ALL_BLOCKED/, 'the refused originate rejects in the client while its events socket is open');
  t.equal(ast.rest.filter((r) => r.method === 'POST').length, 1, 'only the allowed originate reached Asterisk');
  client.stop();
});

t.test('the events socket: auth as for REST, requests over the socket refused, Asterisk refusals relayed', async (t) => {
  const ast = await stubAsterisk(t);
  const gw = await makeProxy(t, [
    { name: 'pbx', adapter: 'asterisk-ari', url: ast.url, brandCode: BRAND, ariRoot: true, gatewayAuth: 'provider', providerUsers: ['ariuser'] },
    { name: 'pbx2', adapter: 'asterisk-ari', url: ast.url, brandCode: BRAND },
  ], { listen: true });
  const ws = (path: string, headers?: Record<string, string>) => new WebSocket(gw.url.replace('http', 'ws') + path, headers ? { headers } : undefined);
  const status = (s: WsSocket) => new Promise<number>((resolve) => {
    s.on('unexpected-response', (_req: unknown, res: { statusCode: number }) => resolve(res.statusCode));
    s.on('open', () => resolve(101));
    s.on('error', () => { /* reported by unexpected-response */ });
  });

  t.equal(await status(ws('/ari/events?app=dialer&api_key=intruder:x')), 401, 'a provider user the upstream does not allow: refused at the gateway');
  t.equal(await status(ws('/ari/events?app=dialer')), 401, 'no provider user at all');
  t.equal(ast.upgrades.length, 0, 'neither reached Asterisk');
  t.equal(await status(ws('/proxy/pbx2/ari/events?app=dialer&api_key=ariuser:aripass')), 401, 'a gate-key upstream without X-IYS-Gate-Key');
  const keyed = ws('/proxy/pbx2/ari/events?app=dialer&api_key=ariuser:aripass', { 'x-iys-gate-key': KEY });
  const firstEvent = new Promise<string>((resolve) => keyed.once('message', (m: Buffer) => resolve(m.toString())));
  t.equal(await status(keyed), 101, 'with the gate key: connected');
  t.match(JSON.parse(await firstEvent), { type: 'StasisStart' });
  t.equal(ast.upgrades.at(-1)!.headers['x-iys-gate-key'], undefined, 'the gate key is not passed to Asterisk');
  t.equal(await status(ws('/proxy/pbx2/ari/events?app=dialer&api_key=ariuser:wrong', { 'x-iys-gate-key': KEY })), 401, "Asterisk's own 401 relayed");
  t.equal(await status(ws('/ari/nothing-here', { 'x-iys-gate-key': KEY })), 404, 'other upgrade paths: 404');

  // a REST request over the socket (it could originate a call the gate never sees): closed, not forwarded
  const s = ws('/ari/events?app=dialer&api_key=ariuser:aripass');
  t.equal(await status(s), 101);
  const pong = new Promise<string>((resolve) => s.once('pong', (d: Buffer) => resolve(d.toString())));
  (s as unknown as { ping(d: string): void }).ping('keepalive');
  t.equal(await pong, 'keepalive', 'control frames (ping/pong) pass both ways');
  const closed = new Promise<[number, string]>((resolve) => s.on('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])));
  s.send(JSON.stringify({ type: 'RESTRequest', request_id: '1', method: 'POST', uri: `channels?endpoint=PJSIP/trunk/${RET}` }));
  const [code, reason] = await closed;
  t.equal(code, 1008);
  t.match(reason, /^GW_ERR_ARI_WS_REQUEST_REFUSED/);
  await new Promise((r) => setTimeout(r, 100));
  t.same(ast.fromClients, [], 'nothing the client sent reached Asterisk');
  keyed.close();
});
