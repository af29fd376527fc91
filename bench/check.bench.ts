/**
 * `POST /v1/check` against the baseline (issue 2 "Speed and size"; STYLE.md habit 9).
 *
 * Setup: a 100,000-row İYS daily file (bench/gen-daily.ts) imported into a fresh embedded store;
 * the gateway started as `npm start` does (auth, normalization, policy, metrics; logs at warn)
 * and bench/baseline-server.ts on the same data, each in its own process. Load: autocannon, fixed
 * parameters (50 connections, pipelining 1, 10 s per run), 1,000 rotating request bodies drawn from
 * the file (mix: see bench/lib/workload.ts), a 3 s warm-up of each, then ALTERNATING runs
 * (baseline, gateway, baseline, gateway) so both see the same machine noise.
 *
 * Targets: gateway req/s ≥ 0.75 × baseline; gateway p99 ≤ 2 × baseline p99.
 * Also printed: server CPU µs per request (independent of how loaded the machine is) and the
 * client's CPU share (if the client saturates its core, the baseline figure is a floor).
 *
 * Run: `node --import tsx bench/check.bench.ts [--rounds 2] [--duration 10] [--connections 50]
 * [--profile]` — `--profile` adds one extra gateway run under `node --cpu-prof` and prints the
 * functions with the most self time (profiles kept under bench/data/profiles/).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTop, mainThreadProfile, topSelf } from './lib/cpuprofile.ts';
import {
  DATA_DIR, HOST, aggregate, fmt, formatRun, runLoad, stopChild, writeResult, type LoadParams, type LoadResult,
} from './lib/harness.ts';
import { AUTH, BENCH_STORE, benchMirror, checkBodies, startBaseline, startGateway, storeUnavailableCount, tally } from './lib/workload.ts';

const { values } = parseArgs({ options: {
  rounds: { type: 'string' }, duration: { type: 'string' }, connections: { type: 'string' }, rows: { type: 'string' },
  profile: { type: 'boolean' }, redis: { type: 'string' },
} });
const ROUNDS = Number(values.rounds ?? 2);
const params: LoadParams = { connections: Number(values.connections ?? 50), durationS: Number(values.duration ?? 10), pipelining: 1 };
const ROWS = Number(values.rows ?? 100_000);

const { redis, mirror, mode } = await benchMirror(values.redis, ROWS);
const { bodies, aliases } = checkBodies(mirror, 1000);
const baseline = await startBaseline(mirror, aliases);
const gateway = await startGateway(mirror);

const gwReqs = bodies.map((b) => ({ body: JSON.stringify(b) }));
const blReqs = bodies.map((b) => ({ body: JSON.stringify(b) }));
const decisions = await tally(`http://${HOST}:${gateway.port}/v1/check`, bodies, AUTH, (j) => { const a = j as { decision: string; reason: string }; return [`${a.decision} ${a.reason}`]; });
const blDecisions = await tally(`http://${HOST}:${baseline.port}/check`, bodies, {}, (j) => { const a = j as { decision: string }; return [a.decision]; });
console.log(`workload: ${bodies.length} bodies; gateway decisions ${JSON.stringify(decisions)}; baseline ${JSON.stringify(blDecisions)}`);
console.log(`load: autocannon -c ${params.connections} -p ${params.pipelining} -d ${params.durationS} (warm-up 3 s each), ${ROUNDS} alternating rounds`);

const warm: LoadParams = { ...params, durationS: 3 };
await runLoad('warm-up baseline', baseline, '/check', blReqs, warm);
await runLoad('warm-up gateway', gateway, '/v1/check', gwReqs, warm, AUTH);

const suBefore = await storeUnavailableCount(gateway);
const bl: LoadResult[] = []; const gw: LoadResult[] = [];
for (let r = 1; r <= ROUNDS; r++) {
  const b = await runLoad(`baseline #${r}`, baseline, '/check', blReqs, params);
  console.log(formatRun(b)); bl.push(b);
  const g = await runLoad(`gateway #${r}`, gateway, '/v1/check', gwReqs, params, AUTH);
  console.log(formatRun(g)); gw.push(g);
}
const B = aggregate(bl); const G = aggregate(gw);
const rpsRatio = G.reqPerSec / B.reqPerSec;
const p99Ratio = G.p99 / B.p99;
const cpuRatio = G.serverCpuUsPerReq / B.serverCpuUsPerReq;
console.log(`\nbaseline: ${fmt(B.reqPerSec)} req/s, p99 ${B.p99.toFixed(2)} ms, ${B.serverCpuUsPerReq.toFixed(1)} µs CPU/req, ${fmt(B.bytesPerReq)} B/resp`);
console.log(`gateway:  ${fmt(G.reqPerSec)} req/s, p99 ${G.p99.toFixed(2)} ms, ${G.serverCpuUsPerReq.toFixed(1)} µs CPU/req, ${fmt(G.bytesPerReq)} B/resp`);
// issue 2: embedded ≥ 0.75×; issue 4: Redis warm cache ≥ 0.7×, cold cache ≥ 0.45×
const TARGET = redis ? (redis.cache ? 0.7 : 0.45) : 0.75;
console.log(`ratios: req/s ${rpsRatio.toFixed(3)}× (target ≥ ${TARGET}: ${rpsRatio >= TARGET ? 'PASS' : 'FAIL'}), p99 ${p99Ratio.toFixed(2)}× (target ≤ 2: ${p99Ratio <= 2 ? 'PASS' : 'FAIL'}), server CPU per request ${cpuRatio.toFixed(2)}×`);
if (B.clientCpuPct > 90) console.log(`note: the client used ${fmt(B.clientCpuPct)}% of a core during baseline runs; the baseline may be client-bound (its req/s is then a floor and the ratio flatters the gateway; see the CPU-per-request ratio).`);

// issue 12 item 7: with Redis healthy no check may answer STORE_UNAVAILABLE (a false BLOCK)
const storeUnavailable = await storeUnavailableCount(gateway);
const totalChecks = gw.reduce((a, r) => a + r.requests, 0);
console.log(`STORE_UNAVAILABLE answers: ${storeUnavailable} over the whole run (tally, warm-up and measured runs), ${storeUnavailable - suBefore} of ${fmt(totalChecks)} measured checks${redis ? ' — Redis healthy: target 0' : ''}`);
await stopChild(gateway, 'SIGTERM');
await stopChild(baseline, 'SIGTERM');
let profile: ReturnType<typeof topSelf> | null = null;
let blProfile: ReturnType<typeof topSelf> | null = null;
let profiled: LoadResult | null = null;
if (values.profile) {
  // One extra run of each server under --cpu-prof; only samples inside the run window count.
  const dir = join(DATA_DIR, 'profiles');
  mkdirSync(dir, { recursive: true });
  const pdir = join(dir, 'check-gateway');
  rmSync(pdir, { recursive: true, force: true });
  const prof = await startGateway(mirror, ['--cpu-prof', '--cpu-prof-dir', pdir]);
  await runLoad('warm-up gateway (prof)', prof, '/v1/check', gwReqs, warm, AUTH);
  profiled = await runLoad('gateway --cpu-prof', prof, '/v1/check', gwReqs, params, AUTH);
  console.log(formatRun(profiled));
  await stopChild(prof, 'SIGINT');
  const bdir = join(dir, 'check-baseline');
  rmSync(bdir, { recursive: true, force: true });
  const bprof = await startBaseline(mirror, aliases, ['--cpu-prof', '--cpu-prof-dir', bdir]);
  await runLoad('warm-up baseline (prof)', bprof, '/check', blReqs, warm);
  const bp = await runLoad('baseline --cpu-prof', bprof, '/check', blReqs, params);
  console.log(formatRun(bp));
  await stopChild(bprof, 'SIGINT');
  profile = topSelf(mainThreadProfile(pdir), 25, profiled);
  blProfile = topSelf(mainThreadProfile(bdir), 12, bp);
  console.log(`\nGATEWAY ${formatTop(profile, profiled.requests)}`);
  console.log(`\nBASELINE ${formatTop(blProfile, bp.requests)}`);
}
rmSync(mirror.dataDir, { recursive: true, force: true });

const file = writeResult(mode === 'embedded' ? (BENCH_STORE === 'memory' && ROWS === 100_000 ? 'check' : `check-${BENCH_STORE}-${ROWS}`) : `check-${mode}`, {
  params, rounds: ROUNDS, rows: ROWS, consents: mirror.consents, bodies: bodies.length, decisions,
  baseline: { runs: bl, aggregate: B }, gateway: { runs: gw, aggregate: G },
  ratios: { reqPerSec: rpsRatio, p99: p99Ratio, serverCpuPerReq: cpuRatio },
  mode, storeUnavailable, storeUnavailableMeasured: storeUnavailable - suBefore, measuredChecks: totalChecks,
  targets: { reqPerSec: { value: rpsRatio, target: `≥ ${TARGET}`, ok: rpsRatio >= TARGET }, p99: { value: p99Ratio, target: '≤ 2', ok: p99Ratio <= 2 } },
  ...(profile ? { profile: { run: profiled, top: profile.rows, byFile: profile.byFile, baselineTop: blProfile?.rows, baselineByFile: blProfile?.byFile } } : {}),
});
console.log(`results: ${file}`);
await redis?.stop(); // the bench's own redis-server child would keep this process alive
