import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO, startTestSimulator, type TestSimulator } from '../../src/simulator/testing.ts';
import { killHard, spawnGateway } from './process.ts';

/**
 * A fleet of gateway processes (`node src/server.ts`) on one Redis (a private redis-server or a
 * 3-master Cluster) and one İYS simulator in this process, for the issue 17 tests: short lease and
 * timers (leaseMs 1,500, pull every 250 ms, upload every 100 ms, batch poll after 200 ms) so a
 * take-over and a full upload take seconds, not minutes.
 */
export const FLEET_KEY = 'fleet-key-0123456789abcdef';
export const FLEET_BRAND = DEMO.brandCode;
export const LEASE_MS = 1500;

export interface Instance {
  name: string;
  child: ChildProcess;
  base: string;
  dataDir: string;
  output: () => string;
  /** The instance id from /v1/sync/status (`thisInstance`). */
  id: string;
}

export interface Leader { instanceId: string | null; fence: number | null; self: boolean; since: string | null; thisInstance: string; reclaimedItems: number | null }

/**
 * @param opts.batchDelayMs the simulator's delay before a batch's results (default 200 ms)
 * @param opts.config merged into every instance's config file (e.g. `upstreams`)
 */
export async function startFleet(opts: { redisUrl: string; cluster: boolean; keyPrefix: string; teardown: (fn: () => unknown) => void; batchDelayMs?: number; config?: Record<string, unknown> }) {
  const requests = { total: 0, writes: 0, byOp: new Map<string, number>() };
  const sim: TestSimulator = await startTestSimulator({ batchDelayMs: opts.batchDelayMs ?? 200, perSecondLimit: 0 }, {
    onExchange: (e) => {
      requests.total++;
      const op = e.operationId ?? e.url;
      requests.byOp.set(op, (requests.byOp.get(op) ?? 0) + 1);
    },
  });
  opts.teardown(() => sim.close());
  const dir = mkdtempSync(join(tmpdir(), 'iys-fleet-'));
  opts.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({
    redis: { keyPrefix: opts.keyPrefix, cluster: opts.cluster },
    mirrorMaxAgeMs: 0,
    iys: {
      baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, brands: [FLEET_BRAND],
      pullIntervalMs: 250, uploadIntervalMs: 100, batchPollAfterMs: 200, uploadRetryBaseMs: 50, leaseMs: LEASE_MS, reconcileDaily: false,
    },
    ...opts.config,
  }));
  const instances: Instance[] = [];
  let n = 0;
  const start = async (): Promise<Instance> => {
    const name = `g${n++}`;
    const dataDir = join(dir, name);
    const p = await spawnGateway({ IYS_GATE_REDIS_URL: opts.redisUrl, IYS_GATE_API_KEY: FLEET_KEY, IYS_GATE_CONFIG: configFile, IYS_GATE_DATA_DIR: dataDir });
    opts.teardown(() => { p.child.kill('SIGCONT'); return killHard(p.child); });
    // a loaded 2-core box starts a gateway in ~3 s, in 20+ s at a load average of 25
    await until(`${name} up (${p.base}); output so far: ${p.output().slice(-300)}`, 90_000, async () => {
      if (p.child.exitCode !== null) throw Object.assign(new Error(`gateway exited: ${p.output().slice(-1500)}`), { fatal: true });
      return (await fetch(p.base + '/healthz')).ok ? true : undefined;
    });
    const s = await status(p.base);
    const inst: Instance = { name, child: p.child, base: p.base, dataDir, output: p.output, id: (s.leader as Leader).thisInstance };
    instances.push(inst);
    return inst;
  };
  return { sim, requests, instances, start, dir };
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method, headers: { authorization: `Bearer ${FLEET_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}
export { call as fleetCall };

export async function status(base: string): Promise<any> {
  return (await call(base, 'GET', '/v1/sync/status')).body;
}

/** Polls `fn` every 20 ms until it returns a value other than undefined, or throws after `ms`. */
export async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await fn().catch((err: unknown) => { if ((err as { fatal?: boolean }).fatal) throw err; return undefined; });
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The instance that leads, as every live instance in `live` reports it, and since when (epoch ms,
 * the holder's own record of its acquisition).
 */
export async function agreedLeader(live: readonly Instance[], ms: number, not?: string): Promise<Instance & { since: number }> {
  return until('one agreed leader', ms, async () => {
    const seen = await Promise.all(live.map((i) => status(i.base).then((s) => s.leader as Leader)));
    const id = seen[0]?.instanceId;
    if (!id || id === not || seen.some((l) => l.instanceId !== id)) return undefined;
    const leader = live.find((i) => i.id === id);
    const own = leader ? seen[live.indexOf(leader)]! : undefined;
    if (!leader || !own?.self || !own.since) return undefined;
    return Object.assign(leader, { since: Date.parse(own.since) });
  });
}

/** Seeds an ONAY at the simulator for each recipient (a refusal revokes a consent; without one İYS answers H175). */
export async function seedOnay(sim: TestSimulator, recipients: readonly string[]): Promise<void> {
  for (const recipient of recipients) {
    const r = await sim.http('POST', '/_sim/movements', { brandCode: FLEET_BRAND, recipient, type: 'MESAJ', recipientType: 'BIREYSEL', status: 'ONAY', source: 'HS_WEB', consentDate: sim.iysNow(-86_400_000), creationDate: sim.iysNow(-86_400_000) });
    if (r.status !== 201) throw new Error(`seed: ${r.status} ${r.text}`);
  }
}

/** A recipient of the tests: +90532 81x xxxx. */
export const recipientOf = (i: number) => `+90532${String(8_100_000 + i)}`;

export async function refuse(inst: Instance, i: number): Promise<number> {
  return (await call(inst.base, 'POST', '/v1/rejections', { brandCode: FLEET_BRAND, recipient: recipientOf(i), type: 'MESAJ', recipientType: 'BIREYSEL' })).status;
}

/** The fleet outbox through one instance: summary and items. */
export async function outbox(inst: Instance): Promise<{ summary: any; items: any[] }> {
  return (await call(inst.base, 'GET', '/v1/outbox?limit=1000')).body;
}

/** A counter's value in an instance's /metrics (0 when absent). */
export async function metric(inst: Instance, name: string): Promise<number> {
  const text = (await call(inst.base, 'GET', '/metrics')).body as string;
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : 0;
}

/**
 * The simulator's own records for the test recipients: movements per recipient (the provider's
 * writes İYS accepted, HS_* sources), to check each refusal reached İYS exactly once.
 */
export function simRecords(sim: TestSimulator, recipients: readonly string[]): Map<string, number> {
  const want = new Set(recipients);
  const counts = new Map<string, number>(recipients.map((r) => [r, 0]));
  for (const m of sim.ctx.state.movements) {
    if (m.brandCode !== FLEET_BRAND || !want.has(m.recipient) || m.status !== 'RET') continue;
    counts.set(m.recipient, counts.get(m.recipient)! + 1);
  }
  return counts;
}
