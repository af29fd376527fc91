/**
 * Gateway start-up split (issue 11, restart to /readyz ≤ 5 s at 10M): for each way of starting the
 * gateway — `tsx` (`node --import tsx src/server.ts`, `npm start` from sources) and `dist`
 * (`node dist/server.js`, the compiled code the Docker image runs; `npm run build` first) — spawn
 * → first answer on the port (/healthz, any status: listening) and spawn → /readyz 200, on an
 * empty data directory and on `--dir` (a data dir whose `mirror/consents.mdb` holds the mirror),
 * alternating variants, `--rounds` times each; plus the bare runtime: `node -e 0` and
 * `node --import tsx` of an empty module, spawn → exit. Polls every 10 ms.
 *
 * Run: `npm run build && node --import tsx bench/start.bench.ts --dir DATA_DIR [--rounds 3]`
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, freePort, sleep, writeResult } from './lib/harness.ts';

const { values } = parseArgs({ options: { dir: { type: 'string' }, rounds: { type: 'string' } } });
if (!values.dir) throw new Error('--dir DATA_DIR');
const ROUNDS = Number(values.rounds ?? 3);
if (!existsSync(join(ROOT, 'dist/server.js'))) throw new Error('dist/server.js missing: npm run build first');
const empty = mkdtempSync(join(tmpdir(), 'iysgate-start-empty-'));
const noop = join(empty, 'noop.ts');
writeFileSync(noop, 'export {};\n');

const VARIANTS = { tsx: ['--import', 'tsx', 'src/server.ts'], dist: ['dist/server.js'] } as const;

async function exitTime(args: string[]): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => { const p = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore' }); p.once('exit', () => resolve()); p.once('error', reject); });
  return (performance.now() - t0) / 1000;
}

async function startOnce(variant: keyof typeof VARIANTS, dataDir: string): Promise<{ listenS: number; readyS: number; stopS: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const p = spawn(process.execPath, [...VARIANTS[variant]], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, IYS_GATE_PORT: String(port), IYS_GATE_HOST: '127.0.0.1', IYS_GATE_DATA_DIR: dataDir, IYS_GATE_STORE: 'lmdb', IYS_GATE_API_KEY: 'bench-key-0123456789abcdef', IYS_GATE_LOG_LEVEL: 'warn' },
  });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
  let listenS = NaN;
  for (;;) {
    if (p.exitCode !== null) throw new Error(`${variant} exited ${p.exitCode}: ${err}`);
    if (performance.now() - t0 > 120_000) { p.kill('SIGKILL'); throw new Error(`${variant} not ready in 120 s`); }
    try {
      if (Number.isNaN(listenS)) { const h = await fetch(`http://127.0.0.1:${port}/healthz`); await h.arrayBuffer(); listenS = (performance.now() - t0) / 1000; }
      const r = await fetch(`http://127.0.0.1:${port}/readyz`); await r.arrayBuffer();
      if (r.status === 200) break;
    } catch { /* not listening yet */ }
    await sleep(10);
  }
  const readyS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  await exited;
  return { listenS, readyS, stopS: (performance.now() - t1) / 1000 };
}

const rows: Array<{ variant: string; dir: string; round: number; listenS: number; readyS: number; stopS: number }> = [];
const runtime: Array<{ round: number; nodeS: number; nodeTsxS: number }> = [];
console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (let round = 1; round <= ROUNDS; round++) {
  runtime.push({ round, nodeS: await exitTime(['-e', '0']), nodeTsxS: await exitTime(['--import', 'tsx', noop]) });
  console.log(`round ${round}: node -e 0 ${runtime.at(-1)!.nodeS.toFixed(2)} s, node --import tsx (empty module) ${runtime.at(-1)!.nodeTsxS.toFixed(2)} s`);
  for (const variant of round % 2 ? (['tsx', 'dist'] as const) : (['dist', 'tsx'] as const)) {
    for (const [name, dir] of [['empty', mkdtempSync(join(tmpdir(), 'iysgate-start-e-'))], ['mirror', values.dir]] as const) {
      const r = await startOnce(variant, dir);
      if (name === 'empty') rmSync(dir, { recursive: true, force: true });
      rows.push({ variant, dir: name, round, ...r });
      console.log(`  ${variant.padEnd(4)} ${name.padEnd(6)} spawn → listening ${r.listenS.toFixed(2)} s, → /readyz 200 ${r.readyS.toFixed(2)} s; SIGTERM → exit ${r.stopS.toFixed(2)} s`);
    }
  }
}
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const summary: Record<string, unknown> = {};
for (const v of ['tsx', 'dist']) for (const d of ['empty', 'mirror']) {
  const sel = rows.filter((r) => r.variant === v && r.dir === d);
  summary[`${v}-${d}`] = { listenS: median(sel.map((r) => r.listenS)), readyS: median(sel.map((r) => r.readyS)), stopS: median(sel.map((r) => r.stopS)) };
}
summary.node = median(runtime.map((r) => r.nodeS));
summary.nodeTsx = median(runtime.map((r) => r.nodeTsxS));
console.log(`medians: ${JSON.stringify(summary)}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
writeResult('start', { dir: values.dir, rounds: rows, runtime, summary, loadavg: loadavg() });
rmSync(empty, { recursive: true, force: true });
