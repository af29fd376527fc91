// Attack review of 2026-12-02 on the ARI event WebSocket proxy (issue 19): an upgrade without
// credentials and one while Asterisk is down get a coded HTTP answer, never a hang or a crash.
import t from 'tap';
import { connect } from 'node:net';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { BRAND, KEY, makeProxy } from '../transports/harness.ts';

/** Sends a raw upgrade request and returns the first bytes answered (or '' on close/timeout). */
async function upgrade(url: string, path: string, headers: Record<string, string>): Promise<string> {
  const u = new URL(url);
  const s = connect(Number(u.port), '127.0.0.1');
  await once(s, 'connect');
  s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  return new Promise((resolve) => {
    let got = '';
    const timer = setTimeout(() => { s.destroy(); resolve(got); }, 3_000);
    s.on('data', (c) => { got += c.toString('latin1'); if (got.includes('\r\n\r\n')) { clearTimeout(timer); s.destroy(); resolve(got); } });
    s.on('close', () => { clearTimeout(timer); resolve(got); });
    s.on('error', () => {});
  });
}

t.test('ARI events: no credentials → 401; Asterisk down → 502 coded; the gateway keeps serving', async (t) => {
  // a port with nothing listening: bind then close
  const dead = createServer(); dead.listen(0, '127.0.0.1'); await once(dead, 'listening');
  const deadPort = (dead.address() as AddressInfo).port; await new Promise<void>((r) => dead.close(() => r()));
  const gw = await makeProxy(t, [
    { name: 'pbx', adapter: 'asterisk-ari', url: `http://127.0.0.1:${deadPort}`, brandCode: BRAND, connectTimeoutMs: 1_000 },
  ], { listen: true });
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const none = await upgrade(gw.url, '/proxy/pbx/ari/events?app=a', { 'Sec-WebSocket-Key': key });
  t.match(none, /^HTTP\/1\.1 401/, 'no gateway key: 401');
  t.notMatch(none, /101 Switching/);
  const down = await upgrade(gw.url, '/proxy/pbx/ari/events?app=a', { 'Sec-WebSocket-Key': key, 'x-iys-gate-key': KEY });
  t.match(down, /^HTTP\/1\.1 502/, 'Asterisk down: 502');
  t.match(down, /GW_ERR_UPSTREAM_UNAVAILABLE/);
  const alive = await gw.app.inject({ method: 'GET', url: '/proxy/pbx/ari/asterisk/info', headers: { 'x-iys-gate-key': KEY } });
  t.ok(alive.statusCode >= 400 && alive.statusCode < 600 && alive.json().code, `REST still answered, coded: ${alive.statusCode}`);
});
