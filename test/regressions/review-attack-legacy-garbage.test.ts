// Review (attack): an outbox.log or journal.log overwritten with garbage, or holding an unreadable
// line before its end, was read as "an earlier release's format": its lines were skipped with a
// warning, the file was converted to 0 records and the gateway started, so queued refusals were
// lost with only a warning. Only the last line of an unframed file can be torn by a crash (and a
// record glued onto a torn line is salvaged, C42): anything else unreadable refuses the start with
// GW_ERR_LOG_CORRUPT naming the file and the byte offset, and the file is left as it was.
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../src/iys/outbox.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-garbage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const ITEM = (id: string) => JSON.stringify({ op: 'add', item: {
  id, brandCode: 700001, origin: 'rejection', receivedAt: '2026-12-01T10:00:00.000Z', deadline: '2026-12-04',
  consent: { recipient: '+905550000002', type: 'MESAJ', recipientType: 'BIREYSEL', status: 'RET', source: 'HS_MESAJ', consentDate: '2026-12-01 13:00:00' },
  state: 'pending', attempts: 0, nextAttemptAt: 0, createdAt: 0, updatedAt: 0,
} });

t.test('outbox.log overwritten by a hex dump: the start is refused, the file kept as it was', async (t) => {
  const dir = tempDir(t);
  const garbage = '00000000  7b 22 6f 70 22 3a 22 61  |{"op":"a|\n00000010  64 64 22 2c 22 69 74 65  |dd","ite|\n';
  writeFileSync(join(dir, 'outbox.log'), garbage);
  const ob = new Outbox({ dir });
  const err = await ob.open().then(() => null, (e: unknown) => e as { code?: string; message: string });
  t.equal(err?.code, 'GW_ERR_LOG_CORRUPT');
  t.match(err?.message ?? '', /outbox\.log.*\b0\b/, 'names the file and byte 0');
  t.equal(readFileSync(join(dir, 'outbox.log'), 'utf8'), garbage, 'left as it was');
  t.notOk(existsSync(join(dir, 'outbox.log.legacy')), 'not converted');
});

t.test('an earlier release outbox with a damaged line between two refusals is refused; a torn last line alone is still repaired', async (t) => {
  const dir = tempDir(t);
  const damaged = `${ITEM('a')}\n{"op":"add","item":{"id":\u0000\u0000\n${ITEM('b')}\n`;
  writeFileSync(join(dir, 'outbox.log'), damaged);
  const err = await new Outbox({ dir }).open().then(() => null, (e: unknown) => e as { code?: string; message: string });
  t.equal(err?.code, 'GW_ERR_LOG_CORRUPT');
  t.match(err?.message ?? '', new RegExp(`outbox\\.log.*\\b${Buffer.byteLength(ITEM('a')) + 1}\\b`), 'names the offset of the damaged line');

  const dir2 = tempDir(t);
  writeFileSync(join(dir2, 'outbox.log'), `${ITEM('a')}\n${ITEM('b')}\n${ITEM('c').slice(0, 40)}`);
  const warnings: string[] = [];
  const ob = new Outbox({ dir: dir2, warn: (m) => warnings.push(m) });
  await ob.open();
  t.teardown(() => ob.close());
  t.same((await ob.list()).map((i) => i.id), ['a', 'b'], 'both complete refusals kept');
  t.match(warnings.join('\n'), /torn last line/);
});

t.test('journal.log of an earlier release with an unreadable line before its end refuses the store', async (t) => {
  const dir = tempDir(t);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'journal.log'), 'garbage that is no movement\n');
  const store = new MemoryStore({ dataDir: dir });
  const err = await store.open().then(() => null, (e: unknown) => e as { code?: string; message: string });
  t.equal(err?.code, 'GW_ERR_LOG_CORRUPT');
  t.match(err?.message ?? '', /journal\.log/);
});
