/**
 * Workload of the HTTP benchmarks: a mirror pre-loaded through the real importer from a generated
 * İYS daily file, the baseline and the gateway started on it (each in its own process), and
 * request bodies drawn from the file so decisions are a realistic ALLOW/BLOCK mix.
 */
import { copyFileSync, createReadStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCsv } from '../../src/mirror/importer.ts';
import type { ConsentStore } from '../../src/mirror/consent-store.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { LmdbStore } from '../../src/mirror/lmdb-store.ts';
import { createRedisStore } from '../../src/mirror/redis-store.ts';
import { generateDaily, mobileFor } from '../gen-daily.ts';
import { DATA_DIR, HOST, fmt, freePort, startChild, type Child } from './harness.ts';

export const BRAND = 7;
/**
 * Embedded store of the check/batch benchmarks: env BENCH_STORE = `lmdb` (default, as the
 * gateway's default) or `memory`; the mirror is imported into it and the gateway started with it.
 */
export const BENCH_STORE = (process.env.BENCH_STORE ?? 'lmdb') as 'lmdb' | 'memory';
if (BENCH_STORE !== 'lmdb' && BENCH_STORE !== 'memory') throw new Error('BENCH_STORE=lmdb|memory');
export const API_KEY = 'bench-key-0123456789abcdef-0123456789';
export const AUTH = { authorization: `Bearer ${API_KEY}` };

export interface Mirror {
  csv: string; dataDir: string; consents: number; importSeconds: number;
  /** Set when the mirror lives in Redis (`--redis warm|cold`): the gateway gets IYS_GATE_REDIS_URL. */
  redis?: { url: string; keyPrefix: string; cache: boolean };
  /** Final status per `type|recipientType|recipient` (last row of the file wins). */
  state: Map<string, string>;
}

/** Generates (or reuses) `bench/data/iys-daily-<rows>.csv` and imports it into a fresh temp data dir. */
export async function prepareMirror(rows: number, redis?: { url: string; cache: boolean }): Promise<Mirror> {
  const csv = join(DATA_DIR, `iys-daily-${rows}.csv`);
  // seed 2 for the usual 100k mirror; past 1M the file import.bench.ts generates (seed 1, same
  // name): 1.5 GB at 10M is generated once and shared
  await generateDaily({ rows, out: csv, seed: rows > 1_000_000 ? 1 : 2 });
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-bench-'));
  const keyPrefix = `bench${process.pid}:`;
  const store: ConsentStore = redis
    ? createRedisStore({ url: redis.url, keyPrefix, cache: false, commandTimeoutMs: 5000, checkSettings: false })
    : BENCH_STORE === 'lmdb' ? new LmdbStore({ dataDir: join(dataDir, 'mirror') }) : new MemoryStore({ dataDir: join(dataDir, 'mirror') });
  const reuse = !redis && BENCH_STORE === 'lmdb' ? process.env.BENCH_LMDB_FILE : undefined;
  if (reuse) {
    // BENCH_LMDB_FILE: a consents.mdb already imported from this same file (10M: saves the import)
    mkdirSync(join(dataDir, 'mirror'), { recursive: true });
    copyFileSync(reuse, join(dataDir, 'mirror', 'consents.mdb'));
  }
  await store.open();
  const t0 = process.hrtime.bigint();
  // the gateway's own import path (LMDB: the worker applies the rows itself)
  const report = reuse ? { rejected: 0, errors: [] } : await importCsv(createReadStream(csv), { brandCode: BRAND, store, parser: 'worker' });
  const importSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (report.rejected > 0) throw new Error(`pre-load rejected ${report.rejected} rows: ${JSON.stringify(report.errors.slice(0, 3))}`);
  await store.setMeta('mirror.freshAt', String(Date.now()));
  const consents = await store.size();
  await store.close();
  const state = new Map<string, string>();
  let header = true; // streamed: a 10M-row file (1.5 GB) is past V8's longest string
  for await (const line of createInterface({ input: createReadStream(csv), crlfDelay: Infinity })) {
    if (header) { header = false; continue; }
    const f = line.split(',');
    if (f.length === 8) state.set(`${f[4]}|${f[3]}|${f[2]}`, f[5]!);
  }
  return { csv, dataDir, consents, importSeconds, state, ...(redis ? { redis: { url: redis.url, keyPrefix, cache: redis.cache } } : {}) };
}

export interface Body { brandCode: number; recipient: string; type: string; recipientType?: string }

/** Spellings a sender might use for a canonical `+905…` mobile. */
function messy(canonical: string, i: number): string {
  const d = canonical.slice(3); // 5xxxxxxxxx
  const forms = [`0${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6, 8)} ${d.slice(8)}`, `90${d}`, `0 (${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8)}`, d];
  return forms[i % forms.length]!;
}

/**
 * Deterministic pool of `n` single-check bodies: 50% known ONAY keys (ALLOW), 20% known RET keys
 * (BLOCK), 10% e-mail keys from the file, 10% unknown mobiles (BLOCK NO_CONSENT), 5% known ONAY
 * mobiles in national/messy spellings (normalized by the gateway), 5% unknown TACIR mobiles
 * (ALLOW TACIR_NOT_REJECTED). Also returns the aliases the baseline needs for the messy spellings.
 */
export function checkBodies(m: Mirror, n: number): { bodies: Body[]; aliases: Array<[string, string, string, string]> } {
  const onay: Array<[string, string, string]> = []; const ret: Array<[string, string, string]> = []; const mail: Array<[string, string, string]> = [];
  for (const [k, status] of m.state) {
    const [type, rt, recipient] = k.split('|') as [string, string, string];
    if (recipient.startsWith('+9000')) continue; // legacy form (C01): not a normal request
    const e: [string, string, string] = [type, rt, recipient];
    if (type === 'EPOSTA') mail.push(e);
    else if (status === 'ONAY' && recipient.startsWith('+905')) onay.push(e);
    else if (status === 'RET') ret.push(e);
  }
  const pick = <T>(xs: T[], i: number) => xs[(i * 7919) % xs.length]!;
  const bodies: Body[] = [];
  const aliases: Array<[string, string, string, string]> = [];
  const mk = (type: string, rt: string, recipient: string): Body => ({ brandCode: BRAND, recipient, type, ...(rt === 'TACIR' ? { recipientType: rt } : {}) });
  for (let i = 0; i < n; i++) {
    const slot = i % 20;
    if (slot < 10) { const [t, rt, r] = pick(onay, i); bodies.push(mk(t, rt, r)); }
    else if (slot < 14) { const [t, rt, r] = pick(ret, i); bodies.push(mk(t, rt, r)); }
    else if (slot < 16) { const [t, rt, r] = pick(mail, i); bodies.push(mk(t, rt, r)); }
    else if (slot < 18) bodies.push(mk(i % 2 ? 'MESAJ' : 'ARAMA', 'BIREYSEL', mobileFor(50_000_000 + i)));
    else if (slot < 19) {
      const [t, rt, r] = pick(onay, i + 1);
      const input = messy(r, i);
      aliases.push([input, r, t, rt]);
      bodies.push(mk(t, rt, input));
    } else bodies.push(mk('MESAJ', 'TACIR', mobileFor(60_000_000 + i)));
  }
  return { bodies, aliases };
}

/**
 * `count` batch bodies of `size` recipients each, type MESAJ, BIREYSEL: the same mix as
 * {@link checkBodies} restricted to MESAJ (known ONAY, known RET, unknown, a few messy spellings).
 */
export function batchBodies(m: Mirror, count: number, size: number): { bodies: Array<Omit<Body, 'recipient'> & { recipients: string[] }>; aliases: Array<[string, string, string, string]> } {
  const onay: string[] = []; const ret: string[] = [];
  for (const [k, status] of m.state) {
    const [type, rt, recipient] = k.split('|') as [string, string, string];
    if (type !== 'MESAJ' || rt !== 'BIREYSEL' || !recipient.startsWith('+905')) continue;
    (status === 'ONAY' ? onay : ret).push(recipient);
  }
  const aliases: Array<[string, string, string, string]> = [];
  const bodies = [];
  for (let b = 0; b < count; b++) {
    const recipients: string[] = [];
    for (let i = 0; i < size; i++) {
      const j = b * size + i;
      const slot = j % 20;
      if (slot < 13) recipients.push(onay[(j * 7919) % onay.length]!);
      else if (slot < 17) recipients.push(ret[(j * 7919) % ret.length]!);
      else if (slot < 19) recipients.push(mobileFor(70_000_000 + j));
      else { const r = onay[(j * 104729) % onay.length]!; const input = messy(r, j); aliases.push([input, r, 'MESAJ', 'BIREYSEL']); recipients.push(input); }
    }
    bodies.push({ brandCode: BRAND, type: 'MESAJ', recipients });
  }
  return { bodies, aliases };
}

/** Starts the baseline (bench/baseline-server.ts) on the mirror's CSV. */
export async function startBaseline(m: Mirror, aliases: Array<[string, string, string, string]>, nodeArgs: string[] = []): Promise<Child> {
  const aliasFile = join(m.dataDir, 'baseline-aliases.json');
  writeFileSync(aliasFile, JSON.stringify(aliases));
  const port = await freePort();
  // a 10M-row mirror: ~3 GB of Map entries and minutes of loading on a loaded machine
  return startChild({ name: 'baseline', script: 'bench/baseline-server.ts', nodeArgs: ['--max-old-space-size=16000', ...nodeArgs], args: ['--port', String(port), '--csv', m.csv, '--aliases', aliasFile], port, readyPath: '/healthz', timeoutMs: 1_800_000 });
}

/**
 * Starts the gateway as `npm start` does (`src/server.ts`: config, store, keys, app, listen) on the
 * mirror's data dir, embedded store, logs at level warn (config file), API key from the env.
 * `nodeArgs` e.g. `['--cpu-prof', '--cpu-prof-dir', DIR]`; `extraConfig` adds config keys.
 */
export async function startGateway(m: Mirror, nodeArgs: string[] = [], extraConfig: Record<string, unknown> = {}): Promise<Child> {
  const port = await freePort();
  const configFile = join(m.dataDir, 'bench-config.json');
  writeFileSync(configFile, JSON.stringify({
    logLevel: 'warn',
    ...extraConfig,
    ...(m.redis ? { redis: { keyPrefix: m.redis.keyPrefix, cacheMaxEntries: m.redis.cache ? 200_000 : 0 } } : {}),
  }));
  // BENCH_GATEWAY_NODE_ARGS: extra node flags for the gateway (e.g. GC tuning experiments)
  const extra = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return startChild({
    name: 'gateway', script: 'src/server.ts', nodeArgs: [...extra, ...nodeArgs], port, readyPath: '/readyz',
    env: {
      IYS_GATE_PORT: String(port), IYS_GATE_HOST: HOST, IYS_GATE_DATA_DIR: m.dataDir, IYS_GATE_API_KEY: API_KEY, IYS_GATE_CONFIG: configFile,
      ...(m.redis ? { IYS_GATE_REDIS_URL: m.redis.url } : { IYS_GATE_STORE: BENCH_STORE }),
    },
  });
}

/** POSTs each body once and tallies `decision/reason` (checks the workload is what it claims). */
export async function tally(url: string, bodies: unknown[], headers: Record<string, string>, pick: (json: unknown) => string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const b of bodies) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(b) });
    const json = (await res.json()) as unknown;
    const keys = res.status === 200 ? pick(json) : [`HTTP ${res.status} ${(json as { code?: string }).code ?? ''}`];
    for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/**
 * `--redis warm|cold`: starts a private redis-server (test/helpers/redis-server.ts) for the run.
 * warm: the gateway's in-process cache on (lookups after the warm-up never reach Redis); cold: no
 * cache, every lookup goes to Redis.
 */
export async function benchRedis(mode: string | undefined): Promise<{ url: string; cache: boolean; stop(): Promise<void> } | undefined> {
  if (!mode) return undefined;
  if (mode !== 'warm' && mode !== 'cold') throw new Error('--redis takes warm or cold');
  const { startRedis } = await import('../../test/helpers/redis-server.ts');
  const srv = await startRedis();
  return { url: `redis://127.0.0.1:${srv.port}`, cache: mode === 'warm', stop: () => srv.cleanup() };
}

/**
 * The mirror of a route benchmark, set up the same way by check.bench.ts and batch.bench.ts:
 * `--redis warm|cold` (or nothing: embedded), `rows` İYS rows imported; logs what it built.
 * `mode` names the result file and the target that applies.
 */
export async function benchMirror(redisFlag: string | undefined, rows: number) {
  const redis = await benchRedis(redisFlag);
  const mirror = await prepareMirror(rows, redis);
  if (redis) console.log(`mirror in Redis (${redis.url}), in-process cache ${redis.cache ? 'on (warm)' : 'off (cold)'}`);
  console.log(`mirror: ${fmt(mirror.consents)} consents from ${fmt(rows)} rows (import ${mirror.importSeconds.toFixed(1)} s)${redis ? '' : `, store ${BENCH_STORE}`}`);
  const mode: 'embedded' | 'redis-warm' | 'redis-cold' = redis ? (redis.cache ? 'redis-warm' : 'redis-cold') : 'embedded';
  return { redis, mirror, mode };
}

/**
 * Decisions the gateway answered `STORE_UNAVAILABLE` since it started (one per recipient, batch
 * items included), summed over `iysgate_decisions_total{reason="STORE_UNAVAILABLE"}` from its
 * `/metrics` (issue 12 item 7: a healthy Redis must give none), plus HTTP 503 answers are not
 * decisions and are counted by the caller's tally.
 */
export async function storeUnavailableCount(gateway: Child): Promise<number> {
  const res = await fetch(`http://${HOST}:${gateway.port}/metrics`);
  const text = await res.text();
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('iysgate_decisions_total{') && line.includes('reason="STORE_UNAVAILABLE"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}
