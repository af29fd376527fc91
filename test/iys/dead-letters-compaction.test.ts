// Issue 12: the dead-letter file (sync/dead-letters.log) grew forever. It is compacted through the
// log layer (writeLogFileSync: temp file, fsync, rename, directory fsync) when dead operations
// dominate: open letters and recently resolved ones kept, older resolved ones dropped.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadLetters } from '../../src/iys/dead-letters.ts';

const DAY = 24 * 3600_000;
const raw = (i: number) => ({ brandCode: 700001, recipient: `+9053212${String(i).padStart(5, '0')}`, recipientType: 'BIREYSEL', type: 'MESAJ', status: 'ONAY', source: 'IYS_WEB', consentDate: '2026-11-28 10:30:00', creationDate: '2026-11-28 10:30:00' });
const entry = (i: number) => ({ brandCode: 700001, via: 'pull' as const, feed: 'IYS' as const, reason: 'future_date' as const, field: 'consentDate', message: 'm', raw: raw(i) });

function tmp(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'iysgate-dlc-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

t.test('resolved letters past the retention are dropped, open and recent ones kept; the file shrinks and reads back the same', async (t) => {
  const dir = tmp(t);
  let now = Date.parse('2026-10-01T10:00:00Z');
  const a = new DeadLetters({ dir, now: () => now, compactMinOps: 100 });
  await a.open();
  const old = await a.add(Array.from({ length: 300 }, (_, i) => entry(i)));
  const open = await a.add(Array.from({ length: 20 }, (_, i) => entry(1000 + i)));
  await a.retried(open[0]!.id, { reason: 'invalid_field', field: 'source', message: 'changed' });
  t.equal(a.compactions, 0, 'nothing to drop yet: no compaction');
  await a.resolve(old.map((l) => ({ id: l.id, outcome: 'applied' as const })));
  t.equal(a.compactions, 0, 'resolved today: kept (30 days), no compaction');
  now += 40 * DAY;
  const recent = await a.add([entry(2000)]);
  await a.resolve([{ id: recent[0]!.id, outcome: 'applied' }]);
  t.equal(a.compactions, 1, 'the resolve that made dead operations dominate compacted the file');
  t.same(a.summary(), { open: 20, openByReason: { future_date: 19, invalid_field: 1, unkeyable: 0, unknown_brand: 0 }, recorded: 21, resolved: 1 });
  const size = statSync(join(dir, 'dead-letters.log')).size;
  await a.add([entry(3000)]); // appends go on in the new file
  await a.close();
  t.ok(size < 20_000, `file after compaction: ${size} bytes`);
  const b = new DeadLetters({ dir, now: () => now, compactMinOps: 100 });
  await b.open();
  t.same(b.summary(), { open: 21, openByReason: { future_date: 20, invalid_field: 1, unkeyable: 0, unknown_brand: 0 }, recorded: 22, resolved: 1 });
  t.same(b.openLetters().map((l) => l.id).sort(), [...open.map((l) => l.id), ...(await b.add([entry(3000)])).map((l) => l.id)].sort(), 'the same open letters (a repeat of one is not recorded twice)');
  t.equal(b.openLetters().find((l) => l.id === open[0]!.id)?.reason, 'invalid_field', 'with their current reason');
  await b.close();
});

t.test('appends issued while a compaction runs are kept', async (t) => {
  const dir = tmp(t);
  const a = new DeadLetters({ dir, keepResolvedMs: 0, compactMinOps: 10 });
  await a.open();
  const first = await a.add(Array.from({ length: 50 }, (_, i) => entry(i)));
  const compacting = a.resolve(first.map((l) => ({ id: l.id, outcome: 'applied' as const })));
  const during = await Promise.all(Array.from({ length: 10 }, (_, i) => a.add([entry(100 + i)])));
  await compacting;
  t.ok(a.compactions >= 1);
  await a.close();
  const b = new DeadLetters({ dir, keepResolvedMs: 0, compactMinOps: 10 });
  await b.open();
  t.same(b.openLetters().map((l) => l.id).sort(), during.flat().map((l) => l.id).sort());
  await b.close();
});

t.test('kill -9 during compactions: every acknowledged open letter is there at the next open', async (t) => {
  const dir = tmp(t);
  const script = join(dir, 'child.mts');
  writeFileSync(script, `
import { DeadLetters } from ${JSON.stringify(new URL('../../src/iys/dead-letters.ts', import.meta.url).pathname)};
const raw = (i: number) => ({ brandCode: 700001, recipient: '+9053' + String(i).padStart(8, '0'), recipientType: 'BIREYSEL', type: 'MESAJ', status: 'ONAY', source: 'IYS_WEB', consentDate: '2026-11-28 10:30:00' });
const dl = new DeadLetters({ dir: process.argv[2]!, keepResolvedMs: 0, compactMinOps: 20 });
await dl.open();
let i = Number(process.argv[3]);
for (;;) {
  const ls = await dl.add(Array.from({ length: 10 }, () => ({ brandCode: 700001, via: 'pull' as const, reason: 'future_date' as const, field: 'consentDate', message: 'm', raw: raw(i++) })));
  process.stdout.write(ls.map((l) => 'open ' + l.id + '\\n').join(''));
  await dl.resolve(ls.slice(0, 8).map((l) => ({ id: l.id, outcome: 'applied' as const })));
  process.stdout.write(ls.slice(0, 8).map((l) => 'resolved ' + l.id + '\\n').join(''));
}
`);
  const acked = new Set<string>();
  let compactions = 0;
  for (let round = 0; round < 3; round++) {
    const child = spawn(process.execPath, ['--import', 'tsx', script, join(dir, 'data'), String(round * 1_000_000)], { cwd: new URL('../..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let lines = 0;
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        lines = out.split('\n').length;
        if (lines > 200 + Math.random() * 400 && child.exitCode === null) child.kill('SIGKILL');
      });
      child.once('exit', () => resolve());
    });
    for (const line of out.split('\n')) {
      const [what, id] = line.split(' ');
      if (what === 'open' && id) acked.add(id);
      if (what === 'resolved' && id) acked.delete(id);
    }
    const check = new DeadLetters({ dir: join(dir, 'data'), keepResolvedMs: 0, compactMinOps: 20 });
    await check.open();
    compactions += check.compactions;
    const openIds = new Set(check.openLetters().map((l) => l.id));
    const missing = [...acked].filter((id) => !openIds.has(id));
    t.same(missing, [], `round ${round + 1}: ${acked.size} acknowledged open letters all there (${lines} lines before the kill)`);
    await check.close();
  }
  t.ok(acked.size > 0);
});
