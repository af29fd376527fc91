/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and lists the functions with the most
 * self time, and the project files (src/) with the most inclusive-self time, so hot-path costs can
 * be reported with numbers. Run alone: `node --import tsx bench/lib/cpuprofile.ts FILE [TOP]`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

/**
 * The main thread's profile in `dir`: `--cpu-prof` also profiles the module-loader thread (tsx
 * hooks), which is idle under load; the main thread's file is the largest.
 */
export function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

export interface HotFunction { name: string; where: string; selfMs: number; selfPct: number }

/**
 * Self time per function (summed over call sites), highest first. `window` (CLOCK_MONOTONIC µs, the
 * clock of profile timestamps on Linux) keeps only samples taken during a load run, so start-up
 * (module loading, store replay, schema compilation) does not count.
 */
export function topSelf(path: string, top = 20, window?: { startUs: number; endUs: number }): { totalMs: number; rows: HotFunction[]; byFile: Array<{ file: string; selfMs: number; selfPct: number }> } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let ts = p.startTime;
  let totalUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    ts += dt;
    if (window && (ts < window.startUs || ts > window.endUs)) continue;
    const id = p.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + dt);
    totalUs += dt;
  }
  const agg = new Map<string, { name: string; where: string; us: number }>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/.*\/node_modules\//, 'node_modules/').replace(/.*\/(src|bench)\//, '$1/');
    const name = n.callFrame.functionName || '(anonymous)';
    const where = url ? `${url}:${n.callFrame.lineNumber + 1}` : '';
    const k = `${name}@${where}`;
    const a = agg.get(k) ?? { name, where, us: 0 };
    a.us += us;
    agg.set(k, a);
    const f = url === '' ? `(${name})` : url.startsWith('node_modules/') ? url.split('/').slice(0, url.split('/')[1]!.startsWith('@') ? 3 : 2).join('/') : url;
    files.set(f, (files.get(f) ?? 0) + us);
  }
  const rows = [...agg.values()].sort((a, b) => b.us - a.us).slice(0, top)
    .map((a) => ({ name: a.name, where: a.where, selfMs: a.us / 1000, selfPct: (100 * a.us) / totalUs }));
  const byFile = [...files.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([file, us]) => ({ file, selfMs: us / 1000, selfPct: (100 * us) / totalUs }));
  return { totalMs: totalUs / 1000, rows, byFile };
}

/** Table of {@link topSelf}; with `requests` (served during the window), adds µs of self time per request. */
export function formatTop(t: ReturnType<typeof topSelf>, requests?: number, unit = 'req'): string {
  const per = (ms: number) => (requests ? `${((ms * 1000) / requests).toFixed(2).padStart(7)} µs/${unit}  ` : '');
  const lines = [`profile: ${(t.totalMs / 1000).toFixed(1)} s sampled${requests ? `, ${requests.toLocaleString('en-US')} ${unit === 'req' ? 'requests' : `${unit}s`}` : ''}`, 'top self time (function, location):'];
  for (const r of t.rows) lines.push(`  ${r.selfPct.toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(7)} ms  ${per(r.selfMs)}${r.name}  ${r.where}`);
  lines.push('self time by file / package:');
  for (const f of t.byFile) lines.push(`  ${f.selfPct.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(7)} ms  ${per(f.selfMs)}${f.file}`);
  return lines.join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const file = process.argv[2];
  if (!file) { process.stderr.write('usage: cpuprofile.ts FILE.cpuprofile [TOP]\n'); process.exit(2); }
  console.log(formatTop(topSelf(file, Number(process.argv[3] ?? 25))));
}
