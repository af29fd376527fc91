/**
 * SMPP front benchmark (issue 16 "Speed"): the same ESME load — the `smpp` package's client,
 * 4 binds, window 50 each, 160-character GSM messages to ONAY recipients — run (a) against the
 * stub SMSC directly and (c) through iys-gate's SMPP front to the same stub, in the same run,
 * alternating, each in its own process (ESME in this one, stub and gate as children).
 *
 *   throughput    closed loop, `--duration` s per round, `--rounds` rounds per mode: submit_sm/s
 *                 and the ratio (c)/(a)
 *   latency       paced at `--rate` (2,000) submits/s: p50/p99 round trip of (a) and (c) and what
 *                 the gate adds to p50
 *   memory        (c) until `--memory-submits` (1,000,000) submits or `--memory-max-s` seconds:
 *                 the gate's heap and RSS after a GC, sampled every 10 % of the way
 *
 * ESME: `--esme smpp` (default) drives the `smpp` package's client (Session.submit_sm, a PDU
 * encoded per submit); `--esme raw` writes PDUs the same package encoded once per recipient
 * (sequence number patched) and reads the answers with the gate's own framer: a cheaper client,
 * so the figure is less bounded by the load generator on a 2-core machine.
 *
 * The gate runs with the decision log on (`--decisions off` to leave it out).
 *
 * Run: node --import tsx bench/smpp.bench.ts [--esme smpp|raw] [--decisions on|off] [--duration 5] [--rounds 2] [--rate 2000]
 *        [--memory-submits 1000000] [--memory-max-s 180] [--no-memory]
 * Machine load (loadavg, CPU of each process) is printed with every figure: the machine is shared.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import smpp, { type PDU, type Session } from 'smpp';
import { cpuSeconds, fmt, writeResult } from './lib/harness.ts';
import { FrameReader } from '../src/transports/smpp/pdu.ts';
import { RECIPIENTS, recipient } from './smpp-procs.ts';

const { values } = parseArgs({ options: {
  duration: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' }, rate: { type: 'string', default: '2000' },
  esme: { type: 'string', default: 'smpp' }, decisions: { type: 'string', default: 'on' },
  'memory-submits': { type: 'string', default: '1000000' }, 'memory-max-s': { type: 'string', default: '180' }, 'no-memory': { type: 'boolean', default: false },
} });
const DURATION_S = Number(values.duration); const ROUNDS = Number(values.rounds); const RATE = Number(values.rate);
const SESSIONS = 4; const WINDOW = 50;
const TEXT = 'Degerli musterimiz, hafta sonuna ozel tum magazalarimizda yeni sezon urunleri sizi bekliyor. Ayrintilar icin web sitemizi ziyaret edin. Iyi alisverisler dileriz!!'.padEnd(160, '.').slice(0, 160);

interface Proc { proc: ChildProcess; port: number }
function start(args: string[]): Promise<Proc> {
  const prof = process.env.SMPP_BENCH_PROFILE_DIR && args[0] === 'gate' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SMPP_BENCH_PROFILE_DIR}`] : [];
  const proc = fork(new URL('./smpp-procs.ts', import.meta.url).pathname, args, { execArgv: ['--import', 'tsx', '--expose-gc', ...prof], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('exit', (c) => reject(new Error(`${args[0]} exited ${c}`)));
    proc.on('message', (m: { port?: number }) => { if (m.port) resolve({ proc, port: m.port }); });
  });
}
const mem = (p: Proc) => new Promise<NodeJS.MemoryUsage>((resolve) => {
  const on = (m: { mem?: NodeJS.MemoryUsage }) => { if (m.mem) { p.proc.off('message', on); resolve(m.mem); } };
  p.proc.on('message', on); p.proc.send({ mem: true });
});

/** The one method `drive` needs of an ESME session. */
interface Esme { submit(i: number, cb: (status: number) => void): void; close(): Promise<void> }

function smppEsme(s: Session): Esme {
  return {
    submit: (i, cb) => (s.submit_sm as (f: object, cb: (p: PDU) => void) => void).call(s, {
      source_addr_ton: 5, source_addr: 'BENCH', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: recipient(i), data_coding: 0, short_message: TEXT,
    }, (r: PDU) => cb(r.command_status)),
    close: () => new Promise<void>((r) => { s.socket.once('close', () => r()); s.destroy(); }),
  };
}

/** Pre-encoded submit_sm per recipient (node-smpp's encoder), written raw with a patched sequence number. */
const TEMPLATES: Buffer[] = [];
function template(i: number): Buffer {
  const k = i % RECIPIENTS;
  return (TEMPLATES[k] ??= new smpp.PDU('submit_sm', { source_addr_ton: 5, source_addr: 'BENCH', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: recipient(k), data_coding: 0, short_message: TEXT }).toBuffer());
}
function rawEsme(s: Session): Esme {
  const socket = s.socket;
  socket.removeAllListeners('readable');
  const waiting = new Map<number, (st: number) => void>();
  let seq = 1000;
  const reader = new FrameReader(1 << 16, (p) => { const q = p.readUInt32BE(12); const cb = waiting.get(q); if (cb) { waiting.delete(q); cb(p.readUInt32BE(8)); } }, () => {});
  socket.on('data', (c: Buffer) => reader.push(c));
  let corked = false;
  return {
    submit: (i, cb) => {
      const b = Buffer.from(template(i)); const q = ++seq; b.writeUInt32BE(q, 12);
      waiting.set(q, cb);
      if (!corked) { corked = true; socket.cork(); setImmediate(() => { corked = false; socket.uncork(); }); }
      socket.write(b);
    },
    close: () => new Promise<void>((r) => { socket.once('close', () => r()); socket.destroy(); }),
  };
}

async function bindAll(port: number, systemId: string, password: string): Promise<Esme[]> {
  const ss = await bindSessions(port, systemId, password);
  return ss.map(values.esme === 'raw' ? rawEsme : smppEsme);
}

async function bindSessions(port: number, systemId: string, password: string): Promise<Session[]> {
  return Promise.all(Array.from({ length: SESSIONS }, () => new Promise<Session>((resolve, reject) => {
    const s = smpp.connect({ url: `smpp://127.0.0.1:${port}` });
    s.on('error', reject);
    s.on('connect', () => (s.bind_transceiver as (f: object, cb: (p: PDU) => void) => void).call(s, { system_id: systemId, password }, (r: PDU) => (r.command_status === 0 ? resolve(s) : reject(new Error(`bind ${r.command_status}`)))));
  })));
}

interface Load { submits: number; perSec: number; errors: number; p50Ms: number; p99Ms: number; loadavg: number }

/**
 * Drives the sessions: closed loop (`rate` 0: every session keeps WINDOW in flight) or paced at
 * `rate` submits/s overall; stops after `durationS` or `maxSubmits`.
 * @param onProgress called every `every` answers
 */
async function drive(sessions: Esme[], opts: { durationS: number; rate?: number; maxSubmits?: number; latency?: boolean; every?: number; onProgress?: (n: number) => Promise<void> | void }): Promise<Load> {
  const lat: number[] = [];
  let sent = 0, done = 0, errors = 0, stopped = false, next = 0;
  const t0 = performance.now();
  const end = t0 + opts.durationS * 1000;
  const max = opts.maxSubmits ?? Infinity;
  const inflight = new Array<number>(sessions.length).fill(0);
  let resolveDone!: () => void;
  const finished = new Promise<void>((r) => { resolveDone = r; });
  const submit = (i: number) => {
    const s = sessions[i]!;
    const at = performance.now();
    inflight[i]!++; sent++;
    s.submit(next++, (status) => {
      inflight[i]!--; done++;
      if (status !== 0) errors++;
      if (opts.latency) lat.push(performance.now() - at);
      if (opts.onProgress && opts.every && done % opts.every === 0) void opts.onProgress(done);
      if (!stopped && !opts.rate) {
        if (performance.now() >= end || sent >= max) stopped = true; else submit(i);
      }
      if (stopped && done === sent) resolveDone();
    });
  };
  if (!opts.rate) {
    for (let i = 0; i < sessions.length; i++) for (let w = 0; w < WINDOW; w++) submit(i);
  } else {
    const perTick = opts.rate / 200; let credit = 0; let rr = 0;
    const timer = setInterval(() => {
      if (performance.now() >= end || sent >= max) { stopped = true; clearInterval(timer); if (done === sent) resolveDone(); return; }
      credit += perTick;
      while (credit >= 1) {
        credit--;
        let k = 0;
        while (k < sessions.length && inflight[rr % sessions.length]! >= WINDOW) { rr++; k++; }
        if (k === sessions.length) break; // every window full: the load is past what the path carries
        submit(rr++ % sessions.length);
      }
    }, 5);
  }
  await finished;
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! : NaN);
  return { submits: done, perSec: done / secs, errors, p50Ms: q(0.5), p99Ms: q(0.99), loadavg: loadavg()[0]! };
}

const close = (ss: Esme[]) => Promise.all(ss.map((s) => s.close()));

const stub = await start(['stub']);
const gate = await start(['gate', `smpp://127.0.0.1:${stub.port}`, values.decisions!]);
if (values.esme === 'raw') for (let i = 0; i < RECIPIENTS; i++) template(i); // encoded before any round
console.log(`SMPP bench — ESME ${values.esme}, decision log ${values.decisions}, ${SESSIONS} binds × window ${WINDOW}, 160-char GSM submit_sm; loadavg ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
const direct = await bindAll(stub.port, 'esme', 'x');
const through = await bindAll(gate.port, 'bench', 'bench');
await drive(direct, { durationS: 1 }); await drive(through, { durationS: 1 }); // warm-up (JIT, recipient memo)

const rounds: { mode: string; load: Load; gateCpuPct: number; stubCpuPct: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const [mode, ss] of [['direct', direct], ['gate', through]] as const) {
    const c0 = [cpuSeconds(gate.proc.pid!), cpuSeconds(stub.proc.pid!)]; const w0 = performance.now();
    const load = await drive(ss, { durationS: DURATION_S });
    const wall = (performance.now() - w0) / 1000;
    const gateCpuPct = ((cpuSeconds(gate.proc.pid!) - c0[0]!) / wall) * 100; const stubCpuPct = ((cpuSeconds(stub.proc.pid!) - c0[1]!) / wall) * 100;
    rounds.push({ mode, load, gateCpuPct, stubCpuPct });
    console.log(`  throughput ${mode.padEnd(6)} ${fmt(load.perSec).padStart(7)} submit_sm/s  (${fmt(load.submits)} in ${DURATION_S} s, errors ${load.errors})  gate CPU ${fmt(gateCpuPct)}%  stub CPU ${fmt(stubCpuPct)}%  loadavg ${load.loadavg.toFixed(1)}`);
  }
}
const median = (xs: number[]) => { const a = [...xs].sort((x, y) => x - y); const m = a.length >> 1; return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2; };
const of = (mode: string) => rounds.filter((x) => x.mode === mode).map((x) => x.load.perSec);
// each round's (c)/(a) from the two runs next to each other in time; the median of those
const ratios = of('gate').map((g, i) => g / of('direct')[i]!);
const ratio = median(ratios);
console.log(`  → through the gate: median ${fmt(median(of('gate')))}/s, best ${fmt(Math.max(...of('gate')))}/s; direct median ${fmt(median(of('direct')))}/s; per-round ratios ${ratios.map((r) => r.toFixed(2)).join(' ')} → median ${ratio.toFixed(2)} (target ≥ 10,000/s and ≥ 0.6×)`);

const lat: { direct: Load; gate: Load }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const d = await drive(direct, { durationS: DURATION_S, rate: RATE, latency: true });
  const g = await drive(through, { durationS: DURATION_S, rate: RATE, latency: true });
  lat.push({ direct: d, gate: g });
  console.log(`  latency at ${RATE}/s: direct p50 ${d.p50Ms.toFixed(3)} ms p99 ${d.p99Ms.toFixed(2)} ms (${fmt(d.perSec)}/s) | gate p50 ${g.p50Ms.toFixed(3)} ms p99 ${g.p99Ms.toFixed(2)} ms (${fmt(g.perSec)}/s) → p50 added ${(g.p50Ms - d.p50Ms).toFixed(3)} ms; loadavg ${g.loadavg.toFixed(1)}`);
}
const added = median(lat.map((x) => x.gate.p50Ms - x.direct.p50Ms));
console.log(`  → p50 added by the gate at ${RATE}/s: median ${added.toFixed(3)} ms over ${ROUNDS} rounds (target ≤ 1 ms)`);

let memory: Record<string, unknown> | null = null;
if (!values['no-memory']) {
  const target = Number(values['memory-submits']); const maxS = Number(values['memory-max-s']);
  const samples: { submits: number; heapMB: number; rssMB: number }[] = [];
  const m0 = await mem(gate);
  samples.push({ submits: 0, heapMB: m0.heapUsed / 2 ** 20, rssMB: m0.rss / 2 ** 20 });
  const every = Math.max(10_000, Math.floor(target / 10));
  let sampling = Promise.resolve();
  const load = await drive(through, {
    durationS: maxS, maxSubmits: target, every,
    onProgress: (n) => { sampling = sampling.then(async () => { const m = await mem(gate); samples.push({ submits: n, heapMB: m.heapUsed / 2 ** 20, rssMB: m.rss / 2 ** 20 }); }); },
  });
  await sampling;
  const m1 = await mem(gate);
  samples.push({ submits: load.submits, heapMB: m1.heapUsed / 2 ** 20, rssMB: m1.rss / 2 ** 20 });
  const first = samples[1] ?? samples[0]!; const last = samples.at(-1)!;
  console.log(`  memory: ${fmt(load.submits)} submits through the gate in ${fmt(load.submits / load.perSec)} s (${fmt(load.perSec)}/s, errors ${load.errors}); gate heap after GC ${samples.map((s) => s.heapMB.toFixed(1)).join(' → ')} MB; RSS ${first.rssMB.toFixed(0)} → ${last.rssMB.toFixed(0)} MB`);
  memory = { submits: load.submits, seconds: load.submits / load.perSec, errors: load.errors, samples, heapGrowthMB: last.heapMB - first.heapMB };
}

writeResult(`smpp-${values.esme}${values.decisions === 'on' ? '-decisions' : ''}`, {
  esme: values.esme, decisions: values.decisions, sessions: SESSIONS, window: WINDOW, durationS: DURATION_S, rounds,
  throughput: { directMedian: median(of('direct')), gateMedian: median(of('gate')), gateBest: Math.max(...of('gate')), ratios, ratio },
  latency: { rate: RATE, rounds: lat, p50AddedMs: added }, memory,
});
await Promise.all([close(direct), close(through)]);
gate.proc.kill('SIGTERM'); stub.proc.kill('SIGTERM');
process.exit(0);
