// Apply rate of the changes feed (issue 6): the İYS simulator serves 1000-item pages over a real
// socket; a SyncWorker pulls them into the embedded store (durable, temp dir) and, when a
// redis-server binary is present, into the Redis store on a private server. Also measures local
// validation of an upload file (rows/s) and a 100,000-row upload end to end against the simulator.
// Run: node --import tsx bench/iys-sync.bench.ts [movements=200000]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import { IysClient } from '../src/iys/client.ts';
import { bulkUpload } from '../src/iys/bulk-upload.ts';
import { DeadLetters } from '../src/iys/dead-letters.ts';
import { SyncWorker } from '../src/iys/sync.ts';
import type { ConsentStore } from '../src/mirror/consent-store.ts';
import { MemoryStore } from '../src/mirror/memory-store.ts';
import { DEMO, simulatorClient, startTestSimulator } from '../src/simulator/testing.ts';

const N = Number(process.argv[2] ?? 200_000);
const log = pino({ level: 'error' });

async function withSim<T>(fn: (sim: Awaited<ReturnType<typeof startTestSimulator>>, client: IysClient) => Promise<T>, opts = {}): Promise<T> {
  const sim = await startTestSimulator({ batchDelayMs: 1000, clockStartAt: '2026-03-12T12:00:00+03:00', clockFrozen: true, ...opts });
  const { client } = await simulatorClient(sim);
  try { return await fn(sim, client); } finally { await sim.close(); }
}

async function applyRate(label: string, makeStore: () => Promise<{ store: ConsentStore; done: () => Promise<void> }>): Promise<number> {
  return withSim(async (sim, client) => {
    const base = sim.ctx.clock.nowMs() - 3 * 3_600_000;
    for (let i = 0; i < N; i++) {
      sim.ctx.record({
        iysCode: DEMO.iysCode, brandCode: DEMO.brandCode, recipient: `+90532${String(1_000_000 + i).padStart(7, '0')}`,
        recipientType: 'BIREYSEL', type: 'MESAJ', status: i % 7 === 0 ? 'RET' : 'ONAY', source: 'HS_WEB',
        consentDate: '2026-03-11 10:00:00', creationMs: base + i,
      });
    }
    const { store, done } = await makeStore();
    const w = new SyncWorker({ brandCode: DEMO.brandCode, client, store, log, deadLetters: new DeadLetters({ dir: null }) });
    const t0 = process.hrtime.bigint();
    await w.pull();
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const st = w.status();
    if (st.lastError) throw new Error(JSON.stringify(st.lastError));
    const rate = st.pulledMovements / secs;
    console.log(`${label}: ${st.pulledMovements} movements in ${secs.toFixed(2)} s = ${Math.round(rate)} movements/s (size ${await store.size()})`);
    await done();
    return rate;
  }, { perSecondLimit: 0 });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-bench-sync-'));
  try {
    await applyRate('pull → embedded store', async () => {
      const store = new MemoryStore({ dataDir: join(dir, 'm') });
      await store.open();
      return { store, done: () => store.close() };
    });
    const hasRedis = await new Promise<boolean>((r) => spawn('redis-server', ['--version']).on('error', () => r(false)).on('exit', (c) => r(c === 0)));
    if (hasRedis) {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const srv = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 300));
      try {
        const { createRedisStore } = await import('../src/mirror/redis-store.ts');
        await applyRate('pull → Redis store', async () => {
          const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'bench:', commandTimeoutMs: 5000, cache: false });
          await store.open();
          return { store, done: () => store.close() };
        });
      } finally { srv.kill(); }
    } else console.log('pull → Redis store: skipped (no redis-server binary)');

    // upload: local validation rate and a 100,000-row upload end to end
    const rows = 100_000;
    const csv = 'recipient,type,source,status,consentDate,recipientType\n'
      + Array.from({ length: rows }, (_, i) => `+90533${String(1_000_000 + i).padStart(7, '0')},MESAJ,HS_WEB,ONAY,2026-03-11 10:00:00,BIREYSEL`).join('\n') + '\n';
    await withSim(async (sim, client) => {
      const t0 = Date.now();
      const s = await bulkUpload(Readable.from([csv]), {
        brandCode: DEMO.brandCode, client, store: null, statePath: join(dir, 'u.state'), reportPath: join(dir, 'u.report.csv'),
        now: () => sim.ctx.clock.nowMs(), sleep: async () => { await sim.advance(2000); }, pollEveryMs: 1,
      });
      console.log(`upload validation: ${s.rows} rows in ${s.validateSeconds.toFixed(2)} s = ${s.validateRowsPerSecond} rows/s`);
      console.log(`upload end to end: ${s.rows} rows, ${s.registered} registered, ${s.failed} failed, ${s.invalid} invalid in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }, { perSecondLimit: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
