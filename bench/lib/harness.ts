/**
 * Shared plumbing of the HTTP benchmarks: child servers (each in its own process, so client and
 * servers never share an event loop), free ports on 127.0.0.1, CPU time of a child read from
 * /proc, bounded autocannon runs with per-response latencies kept at sub-millisecond precision
 * (autocannon's own histogram rounds to whole milliseconds), and result formatting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonRequest } from 'autocannon';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_DIR = join(ROOT, 'bench');
export const DATA_DIR = join(BENCH_DIR, 'data');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const HOST = '127.0.0.1';

/** A free TCP port on 127.0.0.1 (bound and released; the child binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const children = new Set<ChildProcess>();
function killAll(): void { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } }
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { killAll(); process.exit(130); });

export interface Child { name: string; proc: ChildProcess; pid: number; port: number; stderr: () => string }

/**
 * Starts `node <nodeArgs> --import tsx <script> <args>` and resolves once `readyPath` answers 200
 * (polled every 50 ms; rejects after `timeoutMs` or when the child exits first).
 */
export async function startChild(opts: {
  name: string; script: string; args?: string[]; nodeArgs?: string[]; env?: NodeJS.ProcessEnv;
  port: number; readyPath: string; timeoutMs?: number;
}): Promise<Child> {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', opts.script, ...(opts.args ?? [])], {
    cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  proc.stdout!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${opts.name} exited (${proc.exitCode ?? proc.signalCode}): ${err}`);
    try {
      const res = await fetch(`http://${HOST}:${opts.port}${opts.readyPath}`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`${opts.name} not ready after ${opts.timeoutMs ?? 60_000} ms: ${err}`); }
    await sleep(50);
  }
  return { name: opts.name, proc, pid: proc.pid!, port: opts.port, stderr: () => err };
}

/** Stops a child with `signal` and waits for it to exit (SIGKILL after `graceMs`). */
export async function stopChild(c: Child, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => c.proc.once('exit', () => resolve()));
  c.proc.kill(signal);
  const t = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const CLK_TCK = 100; // `getconf CLK_TCK` on Linux x86-64/arm64
/** User+system CPU seconds consumed so far by process `pid` (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15 of stat(5)
}

/** Machine-wide CPU jiffies from /proc/stat: [busy (user+nice+system+irq+softirq), idle+iowait, steal]. */
export function machineJiffies(): [number, number, number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  return [user + nice + system + irq + softirq, idle + iowait, steal];
}

/** Fixed load parameters of one autocannon run. */
/**
 * Load shape: `connections` kept busy for `durationS` seconds (closed loop), or, with `overallRate`,
 * at most that many requests per second over all connections (an offered load below capacity, so
 * latency is service time rather than queueing behind saturation).
 */
export interface LoadParams { connections: number; durationS: number; pipelining: number; overallRate?: number }

/** Result of one bounded load run. */
export interface LoadResult {
  label: string;
  requests: number;
  reqPerSec: number;
  /** Latency percentiles in ms (from every 2xx response, sub-ms precision). */
  p50: number; p90: number; p99: number; p999: number; mean: number;
  non2xx: number; errors: number; timeouts: number;
  /** Mean response body+headers bytes per request. */
  bytesPerReq: number;
  /** Server CPU: share of one core used during the run, and CPU µs per request. */
  serverCpuPct: number; serverCpuUsPerReq: number;
  /** Client (this process) CPU share of one core during the run. */
  clientCpuPct: number;
  /** Whole machine during the run: busy share of all cores, and share stolen by the hypervisor. */
  machineBusyPct: number; machineStealPct: number;
  seconds: number;
  /** CLOCK_MONOTONIC µs at start and end of the run (the clock of V8 .cpuprofile timestamps). */
  startUs: number; endUs: number;
}

/**
 * One autocannon run against `url` with a rotating list of request bodies; each connection walks
 * `requests` in order. Bounded by `durationS`.
 */
export async function runLoad(label: string, target: Child, path: string, requests: AutocannonRequest[], params: LoadParams, headers: Record<string, string> = {}): Promise<LoadResult> {
  const lat: number[] = [];
  let bytes = 0;
  const cpu0 = cpuSeconds(target.pid);
  const me0 = process.cpuUsage();
  const j0 = machineJiffies();
  const t0 = process.hrtime.bigint();
  const result = await new Promise<import('autocannon').AutocannonResult>((resolve, reject) => {
    const inst = autocannon({
      url: `http://${HOST}:${target.port}${path}`,
      connections: params.connections, duration: params.durationS, pipelining: params.pipelining, timeout: 10,
      ...(params.overallRate ? { overallRate: params.overallRate } : {}),
      method: 'POST', headers: { 'content-type': 'application/json', ...headers },
      requests: requests.map((r) => ({ method: 'POST', path, ...r, headers: { 'content-type': 'application/json', ...headers, ...(r.headers ?? {}) } })),
    }, (err, res) => (err ? reject(err) : resolve(res)));
    inst.on('response', (_client: unknown, status: number, resBytes: number, ms: number) => {
      if (status >= 200 && status < 300) { lat.push(ms); bytes += resBytes; }
    });
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(target.pid) - cpu0;
  const me = process.cpuUsage(me0);
  const j1 = machineJiffies();
  const jBusy = j1[0] - j0[0]; const jIdle = j1[1] - j0[1]; const jSteal = j1[2] - j0[2];
  const jAll = Math.max(1, jBusy + jIdle + jSteal);
  const ok = result['2xx'];
  const sorted = Float64Array.from(lat).sort();
  const pct = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
  const total = lat.reduce((a, b) => a + b, 0);
  return {
    label, requests: ok, reqPerSec: ok / result.duration,
    p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), p999: pct(0.999), mean: total / Math.max(1, lat.length),
    non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts,
    bytesPerReq: bytes / Math.max(1, lat.length),
    serverCpuPct: (100 * cpu) / seconds, serverCpuUsPerReq: (cpu * 1e6) / Math.max(1, ok),
    clientCpuPct: (100 * (me.user + me.system) / 1e6) / seconds,
    machineBusyPct: (100 * jBusy) / jAll, machineStealPct: (100 * jSteal) / jAll,
    seconds, startUs: Number(t0 / 1000n), endUs: Number(process.hrtime.bigint() / 1000n),
  };
}

/** Aggregate of several runs of one target: total requests / total time; percentiles as medians of runs. */
export function aggregate(runs: LoadResult[]): LoadResult {
  const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
  const req = runs.reduce((a, r) => a + r.requests, 0);
  const secs = runs.reduce((a, r) => a + r.requests / r.reqPerSec, 0);
  return {
    label: runs[0]!.label, requests: req, reqPerSec: req / secs,
    p50: med(runs.map((r) => r.p50)), p90: med(runs.map((r) => r.p90)), p99: med(runs.map((r) => r.p99)),
    p999: med(runs.map((r) => r.p999)), mean: med(runs.map((r) => r.mean)),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0), errors: runs.reduce((a, r) => a + r.errors, 0),
    timeouts: runs.reduce((a, r) => a + r.timeouts, 0), bytesPerReq: med(runs.map((r) => r.bytesPerReq)),
    serverCpuPct: med(runs.map((r) => r.serverCpuPct)), serverCpuUsPerReq: med(runs.map((r) => r.serverCpuUsPerReq)),
    clientCpuPct: med(runs.map((r) => r.clientCpuPct)),
    machineBusyPct: med(runs.map((r) => r.machineBusyPct)), machineStealPct: med(runs.map((r) => r.machineStealPct)), seconds: runs.reduce((a, r) => a + r.seconds, 0),
    startUs: runs[0]!.startUs, endUs: runs[runs.length - 1]!.endUs,
  };
}

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : String(n));

/** One line per run: req/s, latency percentiles, server/client CPU. */
export function formatRun(r: LoadResult): string {
  return `${r.label.padEnd(22)} ${fmt(r.reqPerSec).padStart(9)} req/s  p50 ${fmt(r.p50, 2).padStart(6)} ms  p99 ${fmt(r.p99, 2).padStart(6)} ms  p99.9 ${fmt(r.p999, 2).padStart(6)} ms  ` +
    `server CPU ${fmt(r.serverCpuPct).padStart(3)}% (${fmt(r.serverCpuUsPerReq, 1)} µs/req)  client CPU ${fmt(r.clientCpuPct).padStart(3)}%  machine busy ${fmt(r.machineBusyPct).padStart(3)}% steal ${fmt(r.machineStealPct)}%  ${fmt(r.bytesPerReq)} B/resp` +
    (r.non2xx || r.errors || r.timeouts ? `  non2xx=${r.non2xx} errors=${r.errors} timeouts=${r.timeouts}` : '');
}

/** Machine line for result files and the summary. */
export function machine(): { cpus: number; model: string; node: string; platform: string; loadavg: number[] } {
  const c = cpus();
  return { cpus: c.length, model: c[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}`, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) };
}

/** Writes `bench/results/<name>.json` (the latest run; run-all reads them for the summary). */
export function writeResult(name: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify({ bench: name, date: new Date().toISOString(), machine: machine(), ...data }, null, 2) + '\n');
  return file;
}
