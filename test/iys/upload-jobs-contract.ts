import type { Test } from 'tap';
import { Readable } from 'node:stream';
import { runUpload, type UploadChunk, type UploadLine } from '../../src/iys/bulk-upload.ts';
import type { UploadJob, UploadJobStore } from '../../src/iys/upload-jobs.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { DEMO, simulatorClient, startTestSimulator } from '../../src/simulator/testing.ts';

/**
 * The upload-job store contract: one suite, run unchanged against both UploadJobStore twins
 * (upload-jobs-file.contract.test.ts: `<dataDir>/uploads`; upload-jobs-redis.contract.test.ts: the
 * fleet's keys on a private redis-server and on a 3-master Cluster). `factory` gives a fresh store,
 * a second handle on the same data (another process, another instance), the token its writes are
 * fenced with, and for a fenced twin a handle whose lease is lost.
 */
export interface JobsUnderTest {
  jobs: UploadJobStore;
  /** The same data through a new handle (a restarted process, another instance). */
  reopen(): Promise<UploadJobStore>;
  token: () => string | null;
  /** The same data through an instance that does not hold the lease (fenced twins only). */
  stale?: UploadJobStore;
  cleanup(): Promise<void>;
}

let n = 0;
const job = (over: Partial<UploadJob> = {}): UploadJob => ({
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`, brandCode: DEMO.brandCode, state: 'running',
  createdAt: new Date(Date.UTC(2026, 2, 12, 9, 0, n)).toISOString(), progress: { validated: 0, sent: 0, confirmed: 0, total: 0 }, ...over,
});

async function text(r: Readable | AsyncIterable<Buffer | string> | null): Promise<string | null> {
  if (!r) return null;
  let s = '';
  for await (const c of r as AsyncIterable<Buffer | string>) s += typeof c === 'string' ? c : c.toString('utf8');
  return s;
}

const ROWS = 2500; // three chunks: 1000, 1000, 500
const csvOf = (rows: number) => ['recipient,type,source,status,consentDate,recipientType',
  ...Array.from({ length: rows }, (_, i) => `0532${String(4_000_000 + i)},MESAJ,HS_WEB,ONAY,2026-03-11 10:00:00,BIREYSEL`),
  '05321112005,SMS,HS_WEB,ONAY,2026-03-11 10:00:00,BIREYSEL', // invalid: H117
].join('\n') + '\n';

export function runUploadJobsContract(t: Test, name: string, factory: () => Promise<JobsUnderTest>): void {
  const withJobs = (title: string, fn: (t: Test, u: JobsUnderTest) => Promise<void>) => t.test(`${name}: ${title}`, async (t) => {
    const u = await factory();
    t.teardown(() => u.cleanup());
    await fn(t, u);
  });

  withJobs('create keeps the input byte for byte; get, list (newest first) and running find the job from another handle', async (t, u) => {
    const a = job();
    const b = job();
    // an input larger than one stored piece (1 MiB), in odd-sized chunks
    const big = Array.from({ length: 30_000 }, (_, i) => `0532${String(5_000_000 + i)},MESAJ,HS_WEB,ONAY,2026-03-11 10:00:00,BIREYSEL\n`).join('');
    await u.jobs.create(a, Readable.from([big.slice(0, 777), big.slice(777, 1_500_000), big.slice(1_500_000)]));
    await u.jobs.create(b, Readable.from(['x,y\n']));
    const other = await u.reopen();
    t.equal(await text(other.input(a.id)), big, `the ${big.length}-byte input reads back whole from another handle`);
    t.same(await other.get(a.id), a, 'the record from another handle');
    t.same((await other.list()).map((j) => j.id).filter((id) => id === a.id || id === b.id), [b.id, a.id], 'newest first');
    t.same((await other.running()).filter((id) => id === a.id || id === b.id).sort(), [a.id, b.id].sort(), 'both running');
    t.equal(await other.get('00000000-0000-4000-8000-999999999999'), null, 'unknown id: null');
    t.equal(await other.report(a.id), null, 'no report before the job ends');
    t.equal(await other.hasReport(a.id), false);
  });

  withJobs('progress: plan, chunks and line results survive a reopen; the report; a finished job leaves running', async (t, u) => {
    const a = job();
    await u.jobs.create(a, Readable.from(['csv\n']));
    const p = u.jobs.progress(a.id, a.brandCode, u.token);
    t.same(await p.load(), { plan: null, chunks: [], results: new Map() }, 'nothing stored before the plan');
    const consent = (i: number) => ({ recipient: `+9053240000${i}`, type: 'MESAJ' as const, source: 'HS_WEB', status: 'ONAY' as const, consentDate: '2026-03-11 10:00:00', recipientType: 'BIREYSEL' as const });
    const chunks: UploadChunk[] = [
      { lines: [2, 3], items: [consent(0), consent(1)], state: 'planned' },
      { lines: [5], items: [consent(2)], state: 'planned' },
    ];
    const bad: UploadLine = { line: 4, recipient: '05321112005', result: 'invalid', code: 'H117', message: 'type' };
    await p.savePlan({ brandCode: a.brandCode, lines: [2, 3, 4, 5], chunkCount: 2, validateSeconds: 0.01 }, chunks, [bad]);
    await p.saveChunk(0, { ...chunks[0]!, state: 'submitted', requestId: 'req-1' }, []);
    const got: UploadLine[] = [{ line: 2, recipient: consent(0).recipient, result: 'registered', transactionId: 'a'.repeat(64) }, { line: 3, recipient: consent(1).recipient, result: 'failed', code: 'H178', message: 'older' }];
    await p.saveChunk(0, { ...chunks[0]!, state: 'final', requestId: 'req-1' }, got);
    const again = await (await u.reopen()).progress(a.id, a.brandCode, u.token).load();
    t.same(again.plan, { brandCode: a.brandCode, lines: [2, 3, 4, 5], chunkCount: 2, validateSeconds: 0.01 });
    t.same(again.chunks, [{ ...chunks[0], state: 'final', requestId: 'req-1' }, chunks[1]], 'chunk states and their consents');
    t.same([...again.results.values()].sort((x, y) => x.line - y.line), [got[0], got[1], bad], 'every line result');
    await p.saveReport(['line,recipient,result\n', '2,+905324000000,registered\n']);
    a.state = 'done';
    await u.jobs.update(a, u.token);
    const other = await u.reopen();
    t.equal(await text(await other.report(a.id)), 'line,recipient,result\n2,+905324000000,registered\n', 'the report from another handle');
    t.equal(await other.hasReport(a.id), true);
    t.equal((await other.running()).includes(a.id), false, 'done: no longer running');
    t.equal((await other.get(a.id))?.state, 'done');
  });

  withJobs('a job resumed by another handle after its runner died mid-job: every line sent once, the report right', async (t, u) => {
    const sim = await startTestSimulator({ batchDelayMs: 1000, clockStartAt: '2026-03-12T12:00:00+03:00', clockFrozen: true });
    t.teardown(() => sim.close());
    const { client, now } = await simulatorClient(sim, { perSecond: 0, retryBaseMs: 5 });
    const store = new MemoryStore({ dataDir: null });
    await store.open();
    const a = job();
    await u.jobs.create(a, Readable.from([csvOf(ROWS)]));
    const sleep = async () => { await sim.advance(2000); };
    // the first runner dies as its third batch is about to leave (two batches sent, their
    // requestIds stored; the third's intent stored, its outcome unknown to the resumer)
    let batches = 0;
    const dying = new Proxy(client, {
      get(target, prop, recv) {
        if (prop !== 'addConsentBatch') return Reflect.get(target, prop, recv);
        return async (...args: Parameters<typeof client.addConsentBatch>) => {
          if (++batches === 3) throw Object.assign(new Error('process killed'), { code: 'KILLED' });
          return target.addConsentBatch(...args);
        };
      },
    });
    await t.rejects(runUpload(() => u.jobs.input(a.id), u.jobs.progress(a.id, a.brandCode, u.token), { brandCode: a.brandCode, client: dying, store, now, sleep, pollEveryMs: 1 }), { code: 'KILLED' });
    const other = await u.reopen();
    const summary = await runUpload(() => { throw new Error('a resumed job must not read its input again'); }, other.progress(a.id, a.brandCode, u.token), { brandCode: a.brandCode, client, store, now, sleep, pollEveryMs: 1 });
    t.match(summary, { rows: ROWS + 1, invalid: 1, sent: ROWS, registered: ROWS, failed: 0, pending: 0 }, 'resumed without validating again');
    await other.update({ ...a, state: 'done', summary }, u.token);
    const report = (await text(await other.report(a.id)))!.trim().split('\n').slice(1).map((l) => l.split(','));
    t.equal(report.length, ROWS + 1, 'a report line per input row');
    t.same(report.filter((r) => r[2] !== 'registered').map((r) => [r[0], r[2], r[3]]), [[String(ROWS + 2), 'invalid', 'H117']], 'every valid line registered, the bad one H117');
    t.equal(new Set(report.filter((r) => r[2] === 'registered').map((r) => r[4])).size, ROWS, 'a transactionId per registered line');
    const movements = sim.ctx.state.movements.filter((m) => m.brandCode === a.brandCode && m.recipient.startsWith('+90532400') && m.recipient.length === 13);
    const per = new Map<string, number>();
    for (const m of movements) per.set(m.recipient, (per.get(m.recipient) ?? 0) + 1);
    t.equal(per.size, ROWS, `all ${ROWS} recipients at the simulator`);
    t.same([...per.values()].filter((c) => c !== 1), [], 'each recorded by İYS exactly once (sent batches polled, the unknown one sent as v2 single writes)');
  });

  if (name.startsWith('redis')) {
    withJobs('fenced: a handle whose lease is lost writes nothing', async (t, u) => {
      const a = job();
      await u.jobs.create(a, Readable.from(['csv\n']));
      const stale = u.stale!;
      await t.rejects(stale.update({ ...a, state: 'failed', error: 'stale' }, () => 'old-leader|0'), { code: 'FENCED' }, 'record update refused');
      await t.rejects(stale.progress(a.id, a.brandCode, () => 'old-leader|0').saveChunk(0, { lines: [2], state: 'final' }, []), { code: 'FENCED' }, 'progress refused');
      await t.rejects(stale.progress(a.id, a.brandCode, () => null).saveReport(['x']), { code: 'FENCED' }, 'no token: refused before Redis');
      t.equal((await u.jobs.get(a.id))?.state, 'running', 'the record is unchanged');
      t.same((await u.jobs.progress(a.id, a.brandCode, u.token).load()).chunks, [], 'the progress is unchanged');
    });
  }
}
