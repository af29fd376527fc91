// Review finding (issue 12 item 3): every refusal the mirror holds from the company's own channels
// is in the outbox. On Redis, a refusal answered 503 while Redis hung was applied once Redis
// resumed (the Lua call was already on the socket) but never queued for İYS: the route wrote the
// mirror first and the outbox only after. Now the outbox record is durable first, then the mirror
// write. Faults on both sides: the private redis-server paused (SIGSTOP) and killed (kill -9)
// during refusals, and the gateway killed (kill -9) between the two writes (a test-only preload,
// test/helpers/between-writes-hook.ts, holds each request after its first write).
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { ConsentType } from '../../src/domain/types.ts';
import { fleetKeys } from '../../src/iys/fleet-keys.ts';
import { RedisOutbox } from '../../src/iys/redis-outbox.ts';
import { createRedisStore, type RedisStore } from '../../src/mirror/redis-store.ts';
import { KeyRing } from '../../src/plugins/api-keys.ts';
import { freePort, killHard } from '../helpers/process.ts';
import { redisAvailable, startRedis, type RedisServer } from '../helpers/redis-server.ts';

const KEY = 'outbox-first-key-0123456789';
const BRAND = 100003;
// POST /v1/consents needs an İYS account (409 without one, issue 10): one that is never called
const NO_CALLS_IYS = { mirrorMaxAgeMs: 0, iys: { baseUrl: 'http://127.0.0.1:9', iysCode: BRAND, username: 'u', password: 'p', brands: [BRAND], pullIntervalMs: 0, uploadIntervalMs: 0, reconcileDaily: false } };
const avail = redisAvailable();

/** A refusal (POST /v1/rejections or POST /v1/consents RET) for recipient `i`. */
function refusal(i: number): { url: string; body: Record<string, unknown>; recipient: string; type: ConsentType } {
  const recipient = `+90532126${String(i).padStart(4, '0')}`;
  if (i % 2 === 0) return { url: '/v1/rejections', body: { brandCode: BRAND, recipient, type: 'MESAJ' }, recipient, type: 'MESAJ' };
  return { url: '/v1/consents', body: { brandCode: BRAND, recipient, type: 'MESAJ', status: 'RET', source: 'HS_WEB', consentDate: '2026-11-30 10:00:00' }, recipient, type: 'MESAJ' };
}

/** Outcome of checking the invariant over `n` refusals. */
interface Audit { applied: number; queued: number; appliedUnqueued: string[]; acknowledgedMissing: string[]; applied503: number }

/**
 * For every refusal: is it in the mirror (read from Redis, no cache) and in the outbox? Counts
 * refusals applied without an outbox item (must be none) and 2xx-acknowledged ones missing from
 * either (must be none).
 */
async function audit(redisUrl: string, prefix: string, outboxRecipients: Set<string>, n: number, statuses: number[]): Promise<Audit> {
  const reader = createRedisStore({ url: redisUrl, keyPrefix: prefix, cache: false, checkSettings: false, commandTimeoutMs: 2000 });
  await reader.open();
  try {
    const a: Audit = { applied: 0, queued: 0, appliedUnqueued: [], acknowledgedMissing: [], applied503: 0 };
    for (let i = 0; i < n; i++) {
      const r = refusal(i);
      const rec = await reader.get({ brandCode: BRAND, recipientType: 'BIREYSEL', type: r.type, recipient: r.recipient });
      const inMirror = rec?.status === 'RET';
      const inOutbox = outboxRecipients.has(r.recipient);
      if (inMirror) a.applied++;
      if (inOutbox) a.queued++;
      if (inMirror && !inOutbox) a.appliedUnqueued.push(`${r.recipient} (answered ${statuses[i]})`);
      if (statuses[i]! >= 200 && statuses[i]! < 300 && !(inMirror && inOutbox)) a.acknowledgedMissing.push(r.recipient);
      if (statuses[i] === 503 && inMirror) a.applied503++;
    }
    return a;
  } finally {
    await reader.close();
  }
}

async function inProcessGateway(t: Test, redis: RedisServer, prefix: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-obf-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ env: { IYS_GATE_API_KEY: KEY }, overrides: { dataDir, logLevel: 'silent', redisUrl: redis.url, redis: { keyPrefix: prefix }, ...NO_CALLS_IYS } });
  // writes bounded at 400 ms so the test stays short (default 2 s); reads as configured
  const store: RedisStore = createRedisStore({ url: redis.url, keyPrefix: prefix, checkSettings: false, writeTimeoutMs: 400, connectTimeoutMs: 1000 });
  await store.open();
  const app: FastifyInstance = await buildApp(config, { store, keys: new KeyRing(config), logger: false });
  t.teardown(async () => { await app.close(); await store.close(); });
  const send = async (i: number) => {
    const r = refusal(i);
    const res = await app.inject({ method: 'POST', url: r.url, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, payload: JSON.stringify(r.body) });
    return res.statusCode;
  };
  const outboxRecipients = async () => new Set((await app.iys.outbox.list()).map((it) => it.consent.recipient));
  return { app, store, send, outboxRecipients };
}

if (avail !== true) {
  t.plan(0, avail);
} else {
  t.test('Redis paused (SIGSTOP) during refusals: every refusal the mirror holds is in the outbox; a 503 never leaves one applied but unqueued', async (t) => {
    const redis = await startRedis();
    t.teardown(() => redis.cleanup());
    const prefix = `obf-pause-${process.pid}:`;
    const g = await inProcessGateway(t, redis, prefix);
    const N = 60;
    const statuses: number[] = new Array(N).fill(0);
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) statuses[i] = await g.send(i); // Redis healthy
    for (let i = 20; i < N; i++) {
      inflight.push(g.send(i).then((s) => { statuses[i] = s; }));
      if (i === 30) { await new Promise((r) => setTimeout(r, 5)); redis.pause(); } // mid-burst: Redis answers nothing
    }
    await Promise.all(inflight);
    redis.resume();
    await new Promise((r) => setTimeout(r, 300)); // Redis works off what was already on its sockets
    const a = await audit(redis.url, prefix, await g.outboxRecipients(), N, statuses);
    const n503 = statuses.filter((s) => s === 503).length;
    t.ok(n503 >= 20, `${n503} refusals answered 503 while Redis was paused`);
    t.same(statuses.slice(0, 20).filter((s) => s !== 201 && s !== 202), [], 'before the pause every refusal is acknowledged');
    t.ok(a.applied503 > 0, `the trigger: ${a.applied503} refusals answered 503 were applied once Redis resumed`);
    t.same(a.appliedUnqueued, [], `every refusal in the mirror (${a.applied}) is in the outbox (${a.queued} queued)`);
    t.same(a.acknowledgedMissing, [], 'every 2xx refusal is in the mirror and the outbox');
    t.same(statuses.filter((s) => s !== 201 && s !== 202 && s !== 503), [], 'only 201/202 or 503');
  });

  t.test('Redis killed (kill -9, AOF always) during refusals and restarted: the same holds', async (t) => {
    const redis = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    t.teardown(() => redis.cleanup());
    const prefix = `obf-kill-${process.pid}:`;
    const g = await inProcessGateway(t, redis, prefix);
    const N = 60;
    const statuses: number[] = new Array(N).fill(0);
    const inflight: Promise<void>[] = [];
    let killed: Promise<void> | null = null;
    for (let i = 0; i < 20; i++) statuses[i] = await g.send(i); // Redis healthy
    for (let i = 20; i < N; i++) {
      inflight.push(g.send(i).then((s) => { statuses[i] = s; }));
      if (i === 30) { await new Promise((r) => setTimeout(r, 5)); killed = redis.kill(); } // mid-burst: some calls on the wire, some after
    }
    await killed;
    await Promise.all(inflight);
    await redis.start();
    // the outbox is in Redis too (the fleet outbox, issue 17): read it once the store reconnected
    let recipients: Set<string> | null = null;
    for (let k = 0; k < 100 && !recipients; k++) {
      recipients = await g.outboxRecipients().catch(() => null);
      if (!recipients) await new Promise((r) => setTimeout(r, 50));
    }
    const a = await audit(redis.url, prefix, recipients!, N, statuses);
    t.ok(statuses.filter((s) => s === 503).length > 0, `${statuses.filter((s) => s === 503).length} answered 503`);
    t.same(a.appliedUnqueued, [], `every refusal in the mirror (${a.applied}) is in the outbox (${a.queued} queued)`);
    t.same(a.acknowledgedMissing, [], 'every 2xx refusal is in the mirror and the outbox');
    // and the gateway recovers by itself: a refusal after the restart is applied and queued
    let s = 0;
    for (let k = 0; k < 50 && s !== 201; k++) { s = await g.send(N); if (s !== 201) await new Promise((r) => setTimeout(r, 100)); }
    t.equal(s, 201, 'recovered');
  });

  t.test('gateway killed (kill -9) between the outbox record and the mirror write: after restart nothing is applied unqueued', async (t) => {
    const redis = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    t.teardown(() => redis.cleanup());
    const prefix = `obf-crash-${process.pid}:`;
    const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-obf-crash-'));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const root = new URL('../..', import.meta.url).pathname;
    const configFile = join(dataDir, 'config.json');
    writeFileSync(configFile, JSON.stringify(NO_CALLS_IYS));
    const start = async (hook: boolean): Promise<{ child: ChildProcess; base: string; out: () => string }> => {
      const port = await freePort();
      const child = spawn(process.execPath, ['--import', 'tsx', ...(hook ? ['--import', './test/helpers/between-writes-hook.ts'] : []), 'src/server.ts'], {
        cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env, IYS_GATE_PORT: String(port), IYS_GATE_HOST: '127.0.0.1', IYS_GATE_API_KEY: KEY, IYS_GATE_DATA_DIR: dataDir,
          IYS_GATE_REDIS_URL: redis.url, TEST_BETWEEN_WRITES_MS: '400', IYS_GATE_CONFIG: configFile,
        },
      });
      let out = '';
      child.stdout!.on('data', (d) => { out += d; });
      child.stderr!.on('data', (d) => { out += d; });
      t.teardown(() => killHard(child));
      const base = `http://127.0.0.1:${port}`;
      for (let k = 0; k < 150; k++) {
        try { if ((await fetch(base + '/healthz')).ok) return { child, base, out: () => out }; } catch { /* not yet */ }
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`gateway did not start: ${out.slice(-800)}`);
    };
    // redis.keyPrefix is a file-only key: the child uses the default prefix
    void prefix;
    const N = 16;
    const statuses: number[] = new Array(N).fill(0);
    for (let round = 0; round < 2; round++) {
      const gw = await start(true);
      const first = round * 8;
      const sends = Array.from({ length: 8 }, (_, j) => first + j).map(async (i) => {
        const r = refusal(i);
        try {
          const res = await fetch(gw.base + r.url, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(r.body) });
          statuses[i] = res.status;
        } catch { statuses[i] = -1; /* connection cut by the kill: no answer */ }
      });
      // kill -9 once the first writes are durable and the second ones are held (random moment inside the hold)
      for (let k = 0; k < 200 && !gw.out().includes('HOOK'); k++) await new Promise((r) => setTimeout(r, 10));
      t.match(gw.out(), /HOOK (outbox|mirror)/, `round ${round}: the first write happened`);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 300)));
      await killHard(gw.child);
      await Promise.all(sends);
    }
    // none acknowledged: each was cut between its writes (or, a /v1/consents RET, answered 503 by its
    // H178 read before any write)
    t.same(statuses.filter((s) => s !== -1 && s !== 503), [], `no refusal was acknowledged ${JSON.stringify(statuses)}`);
    // recovery: a plain restart on the same data directory (outbox replayed from its log)
    const gw = await start(false);
    const res = await fetch(`${gw.base}/v1/outbox?limit=1000`, { headers: { authorization: `Bearer ${KEY}` } });
    const body = await res.json() as { items: Array<{ consent: { recipient: string } }> };
    const queued = new Set(body.items.map((it) => it.consent.recipient));
    await killHard(gw.child);
    const a = await audit(redis.url, 'iysgate:', queued, N, statuses);
    t.ok(a.queued > 0, `${a.queued} refusals were queued before the kill`);
    t.same(a.appliedUnqueued, [], `none of the ${a.applied} refusals in the mirror lacks its outbox item`);
    // the outbox can also be read directly from Redis (the fleet's shared outbox: what the leader will send)
    const reader = createRedisStore({ url: redis.url, keyPrefix: 'iysgate:', cache: false, checkSettings: false });
    await reader.open();
    const ob = new RedisOutbox({ store: reader, keys: fleetKeys(reader.keyPrefix), token: () => null });
    t.equal(new Set((await ob.list()).map((i) => i.consent.recipient)).size, queued.size);
    await reader.close();
  });
}
