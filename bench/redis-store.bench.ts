/**
 * Redis store micro-benchmark (issue 4): bytes per consent in Redis (`INFO memory` used_memory
 * delta) at N consents, apply throughput (movements/s) and cold getMany throughput
 * (recipients/s, cache off, 1,000 per batch).
 *
 *   node --import tsx bench/redis-store.bench.ts [consents=1000000] [--embedded]
 *   (env BUCKETS=<power of two> overrides bucketCount, default 16,384)
 *
 * Starts a private redis-server (never the shared one) on a free port with persistence off.
 * `--embedded` also loads the same movements into the embedded MemoryStore (in-memory only) and
 * reports its heap + external growth per consent (run with --expose-gc for a stable figure).
 * Prints one JSON line with the results.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { CONSENT_TYPES, HS_SOURCES, type Movement } from '../src/domain/types.ts';
import { createRedisStore } from '../src/mirror/redis-store.ts';
import { startRedis } from '../test/helpers/redis-server.ts';

const N = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const EMBEDDED = process.argv.includes('--embedded');
const BATCH = 1000;
const CONCURRENCY = 4;
const BRANDS = [600123, 612345, 734501];

function pad(n: number): string { return String(n).padStart(2, '0'); }

/** Movement i of the data set: unique key per i, realistic field shapes (64-hex transactionId). */
function movement(i: number, tx: Buffer): Movement {
  const day = 1 + (i % 28);
  const sec = i % 86_400;
  const consentDate = `2025-${pad(1 + (i % 12))}-${pad(day)} ${pad(Math.floor(sec / 3600))}:${pad(Math.floor(sec / 60) % 60)}:${pad(sec % 60)}`;
  return {
    brandCode: BRANDS[i % BRANDS.length]!,
    recipientType: i % 10 === 0 ? 'TACIR' : 'BIREYSEL',
    type: CONSENT_TYPES[i % 2]!, // MESAJ / ARAMA on phone numbers
    recipient: `+905${String(300_000_000 + Math.floor(i / 6)).padStart(9, '0')}`,
    status: i % 5 === 0 ? 'RET' : 'ONAY',
    source: HS_SOURCES[i % 12]!,
    consentDate,
    creationDate: consentDate.replace(/:(\d\d)$/, (_, s: string) => `:${pad((Number(s) + 7) % 60)}`),
    transactionId: tx.toString('hex'),
  };
}

function batchOf(start: number): Movement[] {
  const n = Math.min(BATCH, N - start);
  const txs = randomBytes(32 * n);
  return Array.from({ length: n }, (_, j) => movement(start + j, txs.subarray(32 * j, 32 * j + 32)));
}

/** Total usec Redis spent in EVAL/EVALSHA since the last CONFIG RESETSTAT. */
async function scriptUsec(c: Redis): Promise<number> {
  const stats = await c.info('commandstats');
  let total = 0;
  for (const m of stats.matchAll(/cmdstat_(?:eval|evalsha|evalsha_ro|eval_ro):calls=\d+,usec=(\d+)/g)) total += Number(m[1]);
  return total;
}

async function usedMemory(c: Redis): Promise<number> {
  const info = await c.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

const server = await startRedis();
try {
  const admin = new Redis(server.url);
  const BUCKETS = Number(process.env.BUCKETS ?? 16384);
  const store = createRedisStore({ url: server.url, keyPrefix: 'bench:', bucketCount: BUCKETS, cache: false, checkSettings: false, writeTimeoutMs: 30_000, commandTimeoutMs: 2000, batchTimeoutMs: 2000 });
  await store.open();
  const before = await usedMemory(admin);
  await admin.config('RESETSTAT');

  // movements are generated before the clock starts: the figure is the store's, not the generator's
  const batches: Movement[][] = [];
  for (let s = 0; s < N; s += BATCH) batches.push(batchOf(s));
  const t0 = performance.now();
  let next = 0;
  let applied = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < batches.length) {
      const out = await store.apply(batches[next++]!);
      applied += out.filter((o) => o === 'applied').length;
    }
  }));
  batches.length = 0;
  const applySec = (performance.now() - t0) / 1000;
  const applyServerUsec = await scriptUsec(admin);
  await admin.config('RESETSTAT');
  await new Promise((r) => setTimeout(r, 500));
  const after = await usedMemory(admin);
  const size = await store.size();

  // cold lookups: 1,000 random existing keys per getMany, cache off
  const LOOKUP_BATCHES = 300;
  const keys = Array.from({ length: LOOKUP_BATCHES }, () => Array.from({ length: BATCH }, () => movement(Math.floor(Math.random() * N), Buffer.alloc(32))));
  const t1 = performance.now();
  let found = 0;
  for (const k of keys) found += (await store.getMany(k)).filter((r) => r !== null).length;
  const lookupSec = (performance.now() - t1) / 1000;
  const lookupServerUsec = await scriptUsec(admin);
  // the same batches with 4 calls in flight (a loaded gateway overlaps Node and Redis work)
  const t2 = performance.now();
  let li = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (li < keys.length) await store.getMany(keys[li++]!);
  }));
  const concurrentSec = (performance.now() - t2) / 1000;
  // the batch-check path: getPolicyMany (status and dealer data only) on the same batches
  await admin.config('RESETSTAT');
  const t3 = performance.now();
  let policyFound = 0;
  for (const k of keys) policyFound += (await store.getPolicyMany(k)).filter((r) => r !== null).length;
  const policySec = (performance.now() - t3) / 1000;
  const policyServerUsec = await scriptUsec(admin);
  if (policyFound !== found) throw new Error(`getPolicyMany found ${policyFound}, getMany ${found}`);

  const encodings = new Map<string, number>();
  for (let i = 0; i < 64; i++) {
    const e = String(await admin.object('ENCODING', `bench:c{${i.toString(36)}}`));
    encodings.set(e, (encodings.get(e) ?? 0) + 1);
  }

  const result: Record<string, unknown> = {
    consents: N,
    applied,
    size,
    bucketCount: store.bucketCount,
    usedMemoryDeltaBytes: after - before,
    bytesPerConsent: Number(((after - before) / N).toFixed(1)),
    applyMovementsPerSec: Math.round(N / applySec),
    applySeconds: Number(applySec.toFixed(2)),
    coldGetManyRecipientsPerSec: Math.round((LOOKUP_BATCHES * BATCH) / lookupSec),
    coldGetMany1000MsMean: Number(((lookupSec * 1000) / LOOKUP_BATCHES).toFixed(2)),
    coldGetManyRecipientsPerSec4InFlight: Math.round((LOOKUP_BATCHES * BATCH) / concurrentSec),
    coldGetPolicyManyRecipientsPerSec: Math.round((LOOKUP_BATCHES * BATCH) / policySec),
    redisUsecPerPolicyLookup: Number((policyServerUsec / (LOOKUP_BATCHES * BATCH)).toFixed(2)),
    // Redis-side CPU (INFO commandstats): the server's own ceiling, independent of client load
    redisUsecPerMovement: Number((applyServerUsec / N).toFixed(2)),
    redisUsecPerLookup: Number((lookupServerUsec / (LOOKUP_BATCHES * BATCH)).toFixed(2)),
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    found,
    sampleBucketEncodings: Object.fromEntries(encodings),
    redisVersion: /redis_version:(\S+)/.exec(await admin.info('server'))?.[1],
    node: process.version,
  };
  await store.close();
  admin.disconnect();

  if (EMBEDDED) {
    const { MemoryStore } = await import('../src/mirror/memory-store.ts');
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.(); gc?.();
    const m0 = process.memoryUsage();
    const mem = new MemoryStore({ dataDir: null });
    await mem.open();
    for (let s = 0; s < N; s += BATCH) await mem.apply(batchOf(s));
    gc?.(); gc?.();
    const m1 = process.memoryUsage();
    result.embeddedBytesPerConsent = Number(((m1.heapUsed + m1.external + m1.arrayBuffers - m0.heapUsed - m0.external - m0.arrayBuffers) / N).toFixed(1));
    result.embeddedGcExposed = Boolean(gc);
    await mem.close();
  }
  console.log(JSON.stringify(result));
} finally {
  await server.cleanup();
}
