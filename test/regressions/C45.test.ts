// C45 (fastify #7044, #3617): a keep-alive POST /v1/check whose body was still arriving at SIGTERM
// held the process until close-with-grace killed it after 10 s (exit 1, no snapshot). Now the
// shutdown drains: idle sockets close at once, in-flight answers carry `Connection: close`, what is
// still arriving after `shutdownDrainMs` (1 s) is answered 503 or cut, the store closes cleanly,
// exit 0. Real gateway processes; the store check is store-agnostic (the `closed cleanly` log line
// and a restart that still holds what was acknowledged before the signal).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import t from 'tap';
import { killHard, startGatewayProcess } from '../helpers/process.ts';
import { RawConn, postHead } from '../helpers/raw-http.ts';

const KEY = 'c45-key-0123456789abcdef';
const AUTH = { authorization: `Bearer ${KEY}` };
const CHECK = JSON.stringify({ brandCode: 100003, recipient: '05321220006', type: 'MESAJ' });

async function start(t: { teardown(fn: () => unknown): void }, dataDir: string, extra: Record<string, unknown> = {}) {
  const cfg = join(dataDir, 'config.json');
  writeFileSync(cfg, JSON.stringify({ logLevel: 'info', ...extra }));
  const gw = await startGatewayProcess({ IYS_GATE_API_KEY: KEY, IYS_GATE_DATA_DIR: join(dataDir, 'data'), IYS_GATE_CONFIG: cfg });
  t.teardown(() => killHard(gw.child));
  return { ...gw, port: Number(new URL(gw.base).port) };
}

function exited(child: ChildProcess): Promise<{ code: number | null; at: number }> {
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, at: performance.now() })));
}

async function refuse(base: string): Promise<number> {
  const r = await fetch(`${base}/v1/rejections`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: CHECK });
  return r.status;
}

async function decision(base: string): Promise<string> {
  const r = await fetch(`${base}/v1/check`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: CHECK });
  const j = await r.json() as { decision: string; reason: string };
  return `${j.decision} ${j.reason}`;
}

/** An idle keep-alive socket: one full request answered, then nothing. */
async function idleSocket(port: number): Promise<RawConn> {
  const c = new RawConn(port);
  await c.ready();
  c.send(`GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: keep-alive\r\n\r\n`);
  const r = await c.response();
  if (r?.status !== 200) throw new Error('healthz failed');
  return c;
}

t.test('C45 trigger: body still arriving at SIGTERM is answered with Connection: close, exit 0 in about a second', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-c45-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const gw = await start(t, dir);
  t.equal(await refuse(gw.base), 201, 'a refusal acknowledged before the signal');
  const idle = await idleSocket(gw.port);
  const busy = new RawConn(gw.port);
  await busy.ready();
  busy.send(postHead('/v1/check', Buffer.byteLength(CHECK), AUTH) + CHECK.slice(0, 20));
  await new Promise((r) => setTimeout(r, 100));
  const exit = exited(gw.child);
  const t0 = performance.now();
  gw.child.kill('SIGTERM');
  // the rest of the body arrives 300 ms after the signal
  await new Promise((r) => setTimeout(r, 300));
  busy.send(CHECK.slice(20));
  const res = await busy.response();
  t.equal(res?.status, 200, 'the in-flight check is answered');
  t.equal(res?.headers.connection, 'close', 'with Connection: close');
  t.match(JSON.parse(res?.body ?? '{}'), { decision: 'BLOCK', reason: 'CONSENT_RET' });
  const closedAt = await busy.closed;
  t.ok(closedAt - t0 < 1000, `the busy socket is closed after its answer (${Math.round(closedAt - t0)} ms)`);
  const idleClosed = await idle.closed;
  t.ok(idleClosed - t0 < 500, `the idle keep-alive socket is closed at once (${Math.round(idleClosed - t0)} ms)`);
  const { code, at } = await exit;
  t.equal(code, 0, 'exit status 0');
  t.ok(at - t0 < 2000, `exited in ${Math.round(at - t0)} ms`);
  t.match(gw.output(), /"msg":"closed cleanly"/, 'the store was closed cleanly');
  t.match(gw.output(), /"store":"embedded"/);

  const again = await start(t, dir);
  t.equal(await decision(again.base), 'BLOCK CONSENT_RET', 'the refusal is there after the restart');
});

t.test('C45 variant: a body that never completes is answered 503 after shutdownDrainMs, exit 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-c45-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const gw = await start(t, dir, { shutdownDrainMs: 400 });
  t.equal(await refuse(gw.base), 201);
  const stalled = new RawConn(gw.port);
  await stalled.ready();
  stalled.send(postHead('/v1/check', Buffer.byteLength(CHECK), AUTH) + CHECK.slice(0, 10));
  // a second one trickles a byte every 50 ms and never finishes
  const trickle = new RawConn(gw.port);
  await trickle.ready();
  trickle.send(postHead('/v1/rejections', 10_000, AUTH) + '{"brandCode":100003,');
  const tick = setInterval(() => trickle.send(' '), 50);
  t.teardown(() => clearInterval(tick));
  await new Promise((r) => setTimeout(r, 100));
  const exit = exited(gw.child);
  const t0 = performance.now();
  gw.child.kill('SIGTERM');
  const [a, b] = await Promise.all([stalled.response(), trickle.response()]);
  for (const r of [a, b]) {
    t.equal(r?.status, 503);
    t.equal(r?.headers.connection, 'close');
    t.equal(JSON.parse(r?.body ?? '{}').code, 'GW_ERR_SHUTTING_DOWN');
  }
  const { code, at } = await exit;
  clearInterval(tick);
  t.equal(code, 0, 'exit status 0');
  t.ok(at - t0 >= 350 && at - t0 < 1500, `exited after the drain bound (${Math.round(at - t0)} ms)`);
  t.match(gw.output(), /"cut":2,"msg":"closed cleanly"/);
  t.notMatch(gw.output(), /already sent/, 'no noise from the cut requests');
  const again = await start(t, dir);
  t.equal(await decision(again.base), 'BLOCK CONSENT_RET');
});

t.test('C45 variant: a streaming import in flight, idle sockets only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-c45-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const gw = await start(t, dir, { shutdownDrainMs: 500 });
  t.equal(await refuse(gw.base), 201);
  const idles = await Promise.all(Array.from({ length: 20 }, () => idleSocket(gw.port)));
  // an import streams rows every 20 ms, chunked, no end in sight
  const imp = new RawConn(gw.port);
  await imp.ready();
  imp.send(`POST /v1/mirror/import?brandCode=100003 HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${KEY}\r\ncontent-type: text/csv\r\ntransfer-encoding: chunked\r\n\r\n`);
  const chunk = (s: string) => imp.send(`${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`);
  chunk('creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n');
  let n = 0;
  const tick = setInterval(() => chunk(`2026-11-01 10:00:00,tx${n},+9053212${String(n++).padStart(5, '0')},BIREYSEL,MESAJ,ONAY,2026-11-01 10:00:00,HS_WEB\n`), 20);
  t.teardown(() => clearInterval(tick));
  await new Promise((r) => setTimeout(r, 200));
  const exit = exited(gw.child);
  const t0 = performance.now();
  gw.child.kill('SIGTERM');
  const idleClosed = await Promise.all(idles.map((c) => c.closed));
  t.ok(Math.max(...idleClosed) - t0 < 500, `20 idle sockets closed at once (${Math.round(Math.max(...idleClosed) - t0)} ms)`);
  const r = await imp.response();
  t.equal(r?.status, 503, 'the import still arriving after the drain is answered 503');
  t.equal(r?.headers.connection, 'close');
  await imp.closed;
  const { code, at } = await exit;
  clearInterval(tick);
  t.equal(code, 0);
  t.ok(at - t0 < 3000, `exited in ${Math.round(at - t0)} ms (drain 500 ms, then the import's worker stopped and its applied chunks settled)`);
  t.match(gw.output(), /"msg":"closed cleanly"/);
  const again = await start(t, dir);
  t.equal(await decision(again.base), 'BLOCK CONSENT_RET');
});
