/**
 * Where a refusal from a push waits (issue 14 speed): the handler called in process with
 * `--concurrency` pushes of `--batch` refusals in flight, each durable stage timed (outbox append,
 * mirror write, handled mark). Run: `node --import tsx bench/lib/inbound-stages.ts [--batch 20] [--concurrency 64] [--pushes 500]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { LmdbStore } from '../../src/mirror/lmdb-store.ts';
import { KeyRing } from '../../src/plugins/api-keys.ts';

const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const BATCH = arg('batch', 20); const CONC = arg('concurrency', 64); const PUSHES = arg('pushes', 500);
const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-inbound-stages-'));
const config = loadConfig({ env: { IYS_GATE_API_KEY: 'k-0123456789abcdef0123' }, overrides: {
  dataDir, logLevel: 'warn', brands: [{ brandCode: 42, shortNames: ['ABC'] }],
  upstreams: [{ name: 'verimor', adapter: 'verimor', url: 'http://127.0.0.1:9/', brandCode: 42 }],
  inbound: { numbers: { '+908501234567': [42] }, upstreams: { verimor: { secret: 'x'.repeat(20) } } },
} });
const store = new LmdbStore({ dataDir: join(dataDir, 'mirror') });
await store.open();
const app = await buildApp(config, { store, keys: new KeyRing(config), logger: false });
const times: Record<string, number[]> = {};
const counts: Record<string, number> = {};
{ // every fdatasync of the append logs (outbox.log, inbound.log), and the write before it
  const fh = await open(join(dataDir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(fh) as Record<string, (...a: unknown[]) => Promise<unknown>>;
  await fh.close();
  for (const fn of ['datasync', 'appendFile']) {
    const orig = proto[fn]!;
    proto[fn] = async function (this: unknown, ...a: unknown[]) { const s = performance.now(); counts[`fh.${fn}`] = (counts[`fh.${fn}`] ?? 0) + 1; try { return await orig.apply(this, a); } finally { (times[`fh.${fn}`] ??= []).push(performance.now() - s); } };
  }
}
const wrap = (name: string, obj: Record<string, unknown>, fn: string) => {
  const orig = (obj[fn] as (...a: unknown[]) => Promise<unknown>).bind(obj);
  obj[fn] = async (...a: unknown[]) => { const s = performance.now(); counts[name] = (counts[name] ?? 0) + 1; try { return await orig(...a); } finally { (times[name] ??= []).push(performance.now() - s); } };
};
wrap('outbox.add', app.iys.outbox as never, 'add');
wrap('store.apply', store as never, 'apply');
wrap('state.record', app.inbound.state as never, 'record');
wrap('handleMany', app.inbound.replies as never, 'handleMany');
let next = 0;
const elu0 = performance.eventLoopUtilization();
const cpu0 = process.cpuUsage();
const started = performance.now();
const us0 = Number(process.hrtime.bigint() / 1000n);
await Promise.all(Array.from({ length: CONC }, async () => {
  while (next < PUSHES) {
    const p = next++;
    await app.inbound.replies.handleMany(Array.from({ length: BATCH }, (_v, i) => {
      const id = p * BATCH + i;
      return { messageId: String(id), from: `90532${String(1_000_000 + id).padStart(7, '0')}`, to: '908501234567', text: 'RET', via: 'verimor' };
    }));
  }
}));
const s = (performance.now() - started) / 1000;
const us1 = Number(process.hrtime.bigint() / 1000n);
if (process.env.PROFILE_WINDOW_FILE) (await import('node:fs')).writeFileSync(process.env.PROFILE_WINDOW_FILE, JSON.stringify({ startUs: us0, endUs: us1 }));
console.log(`${PUSHES * BATCH} refusals in ${s.toFixed(2)} s = ${Math.round(PUSHES * BATCH / s)}/s (batch ${BATCH}, ${CONC} in flight)`);
const cpu = process.cpuUsage(cpu0);
console.log(`event loop utilization ${(performance.eventLoopUtilization(elu0).utilization * 100).toFixed(0)}%, CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms = ${((cpu.user + cpu.system) / 1000 / (PUSHES * BATCH)).toFixed(3)} ms per refusal`);
const q = (xs: number[], p: number) => { const t = [...xs].sort((a, b) => a - b); return t[Math.min(t.length - 1, Math.floor(p * t.length))]!; };
for (const [k, xs] of Object.entries(times)) console.log(`${k.padEnd(16)} calls ${String(counts[k]).padStart(5)}  p50 ${q(xs, 0.5).toFixed(1).padStart(7)} ms  p90 ${q(xs, 0.9).toFixed(1).padStart(7)} ms  max ${q(xs, 1).toFixed(1).padStart(7)} ms`);
await app.close(); await store.close();
rmSync(dataDir, { recursive: true, force: true });
