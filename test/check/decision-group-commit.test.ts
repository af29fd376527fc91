/**
 * Issue 15/16: the decision log's group commit. At most one batch is written + fdatasynced at a
 * time; every record appended while it runs joins the NEXT batch, which starts the moment the
 * one in flight is durable (no timer wait), so 200 forwarded submits in flight share a few
 * fdatasyncs instead of one each. A commit resolves only once its own records are in the file.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionLog, type DecisionLogOptions, type RecordContext } from '../../src/check/decision-log/decision-log.ts';
import { decodeBlockHeader } from '../../src/check/decision-log/record-format.ts';
import { walkFrames, LOG_MAGIC } from '../../src/check/decision-log/segments.ts';
import { queryDecisions } from '../../src/check/decision-log/reader.ts';

const K = { id: 1, key: Buffer.alloc(32, 7) };
const REQ = { brandCode: 620001, type: 'MESAJ' as const, recipientType: 'BIREYSEL' as const, messageType: 'TICARI' as const };

function tmp(t: { teardown(f: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'iysgate-dgc-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const options = (dir: string, o: Partial<DecisionLogOptions> = {}): DecisionLogOptions => ({
  dir, mode: 'all', flushMs: 60_000, segmentBytes: 64 << 20, retentionDays: 1095, hmacKeys: [K], currentKeyId: 1, writer: 'inline', ...o,
});

/** Records in the open segment file(s) now: the sum of the block counts of every complete frame. */
function recordsOnDisk(dir: string): { records: number; blocks: number } {
  let records = 0; let blocks = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.dlog'))) {
    const buf = readFileSync(join(dir, f));
    if (buf.length < LOG_MAGIC.length) continue;
    walkFrames(buf, LOG_MAGIC.length, (p) => { records += decodeBlockHeader(p).count; blocks++; });
  }
  return { records, blocks };
}

function recordOne(log: DecisionLog, i: number): void {
  const ctx: RecordContext & { contextId: number } = { entrance: 'smpp', via: 'bench', keyName: 'esme', contextId: log.contextId('esme', 'bench') };
  const seq = log.newSeq();
  log.record(ctx, seq, 0, Date.now(), 0, REQ, 'ALLOW', 'CONSENT_ONAY', { status: 'ONAY' }, `+90532${String(10_000_000 + i).slice(1)}`, '');
}

for (const writer of ['inline', 'worker'] as const) {
  t.test(`${writer} writer: 200 forwarded sends in flight share two group commits, each resolved only once its record is in the file`, async (t) => {
    const dir = tmp(t);
    const log = await DecisionLog.open(options(dir, { writer }));
    const seenAtResolve: number[] = [];
    const commits: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      recordOne(log, i);
      // each forwarding door: record, then wait for the group commit before it forwards
      commits.push(log.commit().then(() => { seenAtResolve[i] = recordsOnDisk(dir).records; }));
    }
    await Promise.all(commits);
    // the first commit found the writer idle and went at once (1 record); the other 199 joined the
    // next one, handed over the moment the first was durable: two blocks, two fdatasyncs
    t.equal(log.commits, 2, 'two group commits for 200 sends');
    t.same(recordsOnDisk(dir), { records: 200, blocks: 2 });
    for (let i = 0; i < 200; i++) if (seenAtResolve[i]! < i + 1) t.fail(`commit ${i} resolved with ${seenAtResolve[i]} records in the file`);
    t.ok(seenAtResolve.every((n, i) => n >= i + 1), 'every commit resolved after its own record reached the file');

    // the next wave: a commit while nothing is in flight goes at once (no flushMs wait: flushMs is 60 s here)
    const t0 = performance.now();
    recordOne(log, 200);
    await log.commit();
    t.ok(performance.now() - t0 < 30_000, 'a lone commit does not wait for the flushMs timer');
    t.equal(log.commits, 3);
    t.equal(recordsOnDisk(dir).records, 201);
    await log.close();
    const found = queryDecisions([dir], { recipient: '+905320000150' }, { hmacKeys: [K] }, { limit: 10 }).decisions;
    t.equal(found.length, 1, 'a recipient of the second batch is found by the query');
    t.equal(found[0]!.decision, 'ALLOW');
  });
}

t.test('a check waits at most flushMs, and a timer that fires during a commit joins the next batch', async (t) => {
  const dir = tmp(t);
  const log = await DecisionLog.open(options(dir, { flushMs: 20 }));
  recordOne(log, 1);
  const forwarded = log.commit(); // in flight now
  recordOne(log, 2); // a check: no commit() call, only the flushMs timer
  await forwarded;
  const t0 = Date.now();
  while (recordsOnDisk(dir).records < 2 && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 5));
  t.equal(recordsOnDisk(dir).records, 2, 'the check record reached the file by the timer');
  t.ok(Date.now() - t0 < 5_000);
  await log.close();
});

t.test('a writer failure rejects the commit in flight and the ones waiting behind it, coded, and fails the log', async (t) => {
  const dir = tmp(t);
  const log = await DecisionLog.open(options(dir));
  recordOne(log, 1);
  const inFlight = log.commit();
  recordOne(log, 2);
  const waiting = log.commit(); // joins the next batch
  rmSync(dir, { recursive: true, force: true }); // before the first write opens its segment: the manifest write fails (ENOENT)
  await t.rejects(inFlight, { code: 'GW_ERR_DECISION_LOG_UNAVAILABLE' });
  await t.rejects(waiting, { code: 'GW_ERR_DECISION_LOG_UNAVAILABLE' }, 'the waiter of the next batch is not left hanging');
  t.throws(() => log.assertWritable(), { code: 'GW_ERR_DECISION_LOG_UNAVAILABLE' }, 'nothing is decided from then on');
  await log.close();
});
