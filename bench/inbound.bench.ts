/**
 * Issue 14 benchmarks, one run:
 * 1. the reply reader in process (src/domain/reply-reader.ts) on the labelled corpus
 *    (test/fixtures/reply-corpus.ts, 164 replies of every shape): replies per CPU-second;
 * 2. the Verimor push receiver end to end on the embedded store (LMDB, the default): the gateway as
 *    `npm start` runs it (src/server.ts, its own process, logs at warn) on 127.0.0.1, pushes of
 *    `--batch` replies (Verimor's JSON array) from `--concurrency` keep-alive clients in this
 *    process; every reply answered 2xx is durable (outbox + mirror + handled mark, each
 *    group-committed: one fdatasync shared by the replies in flight). Half the replies are refusals
 *    (`RET`, `iptal lütfen`), a quarter free text kept for review, a quarter order questions.
 *    Two baselines in the same run, alternated with it round by round:
 *    - `bare`: bench/baseline-server.ts `POST /inbound/…`, the same bytes read, decoded, parsed and
 *      answered with a summary of the same shape, nothing read nor recorded (what HTTP + JSON cost);
 *    - `none`: the gateway, every reply read as `none` (`Teşekkürler`): one handled mark each, one
 *      group-committed append (what the door costs before any refusal).
 *    Reported: replies/s (wall), the gateway's CPU ms per reply (/proc, its process only), ratios
 *    against the baselines, the load average before and after.
 *
 * Run: `node --import tsx bench/inbound.bench.ts [--replies 20000] [--batch 1,20] [--concurrency 64]
 * [--rounds 2] [--max-seconds 30]` (each run bounded by `--max-seconds`; ≈ 1–2 min). Results:
 * bench/results/inbound.json; figures in bench/README.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, Agent } from 'undici';
import { compileReplyReader } from '../src/domain/reply-reader.ts';
import { REPLY_BRANDS, REPLY_CORPUS } from '../test/fixtures/reply-corpus.ts';
import { cpuSeconds, freePort, HOST, startChild, stopChild, writeResult, type Child } from './lib/harness.ts';

const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : dflt; };
const REPLIES = Number(arg('replies', '20000'));
const BATCHES = arg('batch', '1,20').split(',').map(Number);
const CONC = Number(arg('concurrency', '64'));
const ROUNDS = Number(arg('rounds', '2'));
const MAX_S = Number(arg('max-seconds', '30'));
const cpuNs = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
const load = () => loadavg().map((x) => Math.round(x * 100) / 100);
const load0 = load();

// 1. reader
const read = compileReplyReader({ brandNames: REPLY_BRANDS });
const texts = REPLY_CORPUS.map((c) => c.text);
let sink = 0;
for (let r = 0; r < 300; r++) for (const t of texts) if (read(t).verdict === 'refusal') sink++;
let ops = 0;
const t0 = cpuNs(); const w0 = performance.now();
while (cpuNs() - t0 < 1.5e9) { for (const t of texts) if (read(t).verdict === 'refusal') sink++; ops += texts.length; }
const readerPerSec = Math.round(ops / ((cpuNs() - t0) / 1e9));
const readerWallPerSec = Math.round(ops / ((performance.now() - w0) / 1000));
console.log(`reader: ${readerPerSec.toLocaleString('en')} replies per CPU-second (${readerWallPerSec.toLocaleString('en')}/s wall), ${sink > 0 ? 'ok' : '?'}`);

// 2. push receiver
const SECRET = 'bench-inbound-secret-0123456789';
const KEY = 'bench-inbound-key-0123456789abc';
const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-inbound-bench-'));
const configFile = join(dataDir, 'config.json');
writeFileSync(configFile, JSON.stringify({
  logLevel: 'warn', brands: [{ brandCode: 42, shortNames: ['ABC'] }],
  upstreams: [{ name: 'verimor', adapter: 'verimor', url: 'http://127.0.0.1:9/', brandCode: 42 }],
  inbound: { numbers: { '+908501234567': [42] }, upstreams: { verimor: { secret: SECRET } } },
}));
const gwPort = await freePort();
const gateway = await startChild({
  name: 'gateway', script: 'src/server.ts', port: gwPort, readyPath: '/readyz',
  env: { IYS_GATE_PORT: String(gwPort), IYS_GATE_HOST: HOST, IYS_GATE_DATA_DIR: dataDir, IYS_GATE_API_KEY: KEY, IYS_GATE_CONFIG: configFile, IYS_GATE_STORE: 'lmdb' },
});
const barePort = await freePort();
const bare = await startChild({ name: 'bare', script: 'bench/baseline-server.ts', args: ['--port', String(barePort)], port: barePort, readyPath: '/healthz' });

const SHAPES = ['RET', 'iptal lütfen', 'beni listeden çıkarın', 'Siparişim ne zaman gelir?'];
interface Run { mode: string; batch: number; replies: number; seconds: number; perSec: number; cpuMsPerReply: number; failed: number }
let nextId = 0; // message ids and senders unique over the whole run (no delivery is a duplicate)

async function run(mode: 'bare' | 'none' | 'mixed', batch: number): Promise<Run> {
  const target: Child = mode === 'bare' ? bare : gateway;
  const url = `http://${HOST}:${target.port}${mode === 'bare' ? '/inbound' : '/v1/inbound'}/verimor/${SECRET}`;
  const agent = new Agent({ connections: CONC, pipelining: 1 });
  const base = nextId; nextId += REPLIES;
  let next = 0; let done = 0; let failed = 0;
  const cpu0 = cpuSeconds(target.pid);
  const started = performance.now();
  const stopAt = started + MAX_S * 1000;
  const worker = async () => {
    while (next < REPLIES && performance.now() < stopAt) {
      const from = next; const n = Math.min(batch, REPLIES - from); next += n;
      const body = Array.from({ length: n }, (_v, i) => {
        const id = base + from + i;
        return { message_id: id, type: 'inbound', received_at: '2026-03-12 09:00:00', source_addr: `90532${String(1_000_000 + id).padStart(7, '0')}`, destination_addr: '908501234567', content: mode === 'mixed' ? SHAPES[id % 4]! : 'Teşekkürler' };
      });
      const r = await request(url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await r.body.text();
      if (r.statusCode !== 200) failed += n; else done += n;
    }
  };
  await Promise.all(Array.from({ length: CONC }, worker));
  const s = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(target.pid) - cpu0;
  await agent.close();
  const out = { mode, batch, replies: done, seconds: +s.toFixed(3), perSec: Math.round(done / s), cpuMsPerReply: +((cpu * 1000) / Math.max(1, done)).toFixed(3), failed };
  console.log(`${mode.padEnd(5)} batch ${String(batch).padStart(2)}: ${done} replies in ${s.toFixed(2)} s = ${out.perSec.toLocaleString('en').padStart(6)} replies/s, ${out.cpuMsPerReply.toFixed(3)} CPU ms/reply (${target.name})${failed ? `  FAILED ${failed}` : ''}`);
  return out;
}

const runs: Run[] = [];
for (const batch of BATCHES) {
  await run('none', Math.min(batch, 20)); // warm-up (JIT, LMDB pages), not reported
  for (let r = 0; r < ROUNDS; r++) for (const mode of ['bare', 'none', 'mixed'] as const) runs.push(await run(mode, batch));
}
const metrics = await (await fetch(`http://${HOST}:${gateway.port}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
const refusedTotal = [...metrics.matchAll(/^iysgate_inbound_replies_total\{[^}]*status="refused"[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
const expectedRefused = runs.filter((r) => r.mode === 'mixed').reduce((a, r) => a + r.replies / 2, 0);
await stopChild(gateway); await stopChild(bare);
rmSync(dataDir, { recursive: true, force: true });
const load1 = load();

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const summary = BATCHES.map((batch) => {
  const of = (mode: string) => runs.filter((r) => r.batch === batch && r.mode === mode);
  const m = (mode: string, k: 'perSec' | 'cpuMsPerReply') => +median(of(mode).map((r) => r[k])).toFixed(3);
  const s = {
    batch, barePerSec: m('bare', 'perSec'), nonePerSec: m('none', 'perSec'), mixedPerSec: m('mixed', 'perSec'),
    bareCpuMs: m('bare', 'cpuMsPerReply'), noneCpuMs: m('none', 'cpuMsPerReply'), mixedCpuMs: m('mixed', 'cpuMsPerReply'),
  };
  console.log(`batch ${batch}: mixed median ${s.mixedPerSec.toLocaleString('en')} replies/s = ${(s.mixedPerSec / s.barePerSec).toFixed(2)}× bare (${s.barePerSec.toLocaleString('en')}/s), ${(s.mixedPerSec / s.nonePerSec).toFixed(2)}× none (${s.nonePerSec.toLocaleString('en')}/s); CPU ms/reply mixed ${s.mixedCpuMs}, none ${s.noneCpuMs}, bare ${s.bareCpuMs}`);
  return { ...s, ratioBare: +(s.mixedPerSec / s.barePerSec).toFixed(2), ratioNone: +(s.mixedPerSec / s.nonePerSec).toFixed(2) };
});
console.log(`refusals counted by the gateway: ${refusedTotal} (expected ${expectedRefused}); load average ${load0.join(' ')} → ${load1.join(' ')}`);
const file = writeResult('inbound', {
  reader: { perCpuSecond: readerPerSec, perWallSecond: readerWallPerSec, corpus: texts.length },
  concurrency: CONC, rounds: ROUNDS, store: 'lmdb', loadBefore: load0, loadAfter: load1, refusalsRecorded: refusedTotal, refusalsExpected: expectedRefused, summary, runs,
});
console.log(`written ${file}`);
if (refusedTotal !== expectedRefused || runs.some((r) => r.failed > 0)) process.exitCode = 1;
