// A data directory written by the earlier release (unframed journal/snapshot lines, JSON-line
// outbox) opens: everything is read, then the files are rewritten in the append-log format.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Movement } from '../../src/domain/types.ts';
import { Outbox } from '../../src/iys/outbox.ts';
import { LOG_MAGIC } from '../../src/mirror/append-log.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { movementToLine } from '../../src/mirror/movement-codec.ts';

const mv = (over: Partial<Movement>): Movement => ({
  brandCode: 1, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905320000001', status: 'ONAY',
  source: 'HS_WEB', consentDate: '2025-01-01 10:00:00', creationDate: '2025-01-01 10:00:05',
  transactionId: 'ab'.repeat(32), noncanonical: false, ...over,
});
const key = (recipient: string) => ({ brandCode: 1, recipientType: 'BIREYSEL', type: 'MESAJ', recipient } as const);

t.test('an old-format data directory opens, and is converted', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'iysgate-legacy-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const mirror = join(root, 'mirror');
  const outboxDir = join(root, 'outbox');
  mkdirSync(mirror);
  mkdirSync(outboxDir);
  writeFileSync(join(mirror, 'snapshot.log'), movementToLine(mv({})) + movementToLine(mv({ recipient: '+905320000002' })) + '#m\tsync.1.HS.after\t"cursor-1"\n');
  const glued = movementToLine(mv({ recipient: '+905320000004' })).slice(0, 25) + movementToLine(mv({ recipient: '+905320000005', status: 'RET', consentDate: '2025-02-01 10:00:00' }));
  writeFileSync(join(mirror, 'journal.log'),
    movementToLine(mv({ status: 'RET', consentDate: '2025-03-01 10:00:00' })) // newer RET for +905320000001
    + movementToLine(mv({ recipient: '+905320000003' }))
    + glued // C42 damage left by the earlier release: a record glued onto a torn line
    + '#m\tsync.1.HS.after\t"cursor-2"\n'
    + movementToLine(mv({ recipient: '+905320000006' })).slice(0, 30)); // torn last line
  const item = (id: string, recipient: string, state = 'pending') => JSON.stringify({
    op: 'add', item: { id, brandCode: 1, origin: 'rejection', receivedAt: '2025-01-02T07:00:00.000Z', deadline: '2025-01-07', state, attempts: 0, nextAttemptAt: 0, createdAt: 0, updatedAt: 0, consent: { recipient, type: 'MESAJ', recipientType: 'BIREYSEL', status: 'RET', source: 'HS_MESAJ', consentDate: '2025-01-02 10:00:00' } },
  }) + '\n';
  writeFileSync(join(outboxDir, 'outbox.log'), item('a', '+905320000001') + item('b', '+905320000007') + JSON.stringify({ op: 'set', id: 'a', patch: { attempts: 2 } }) + '\n' + '{"op":"add","it');

  const warnings: string[] = [];
  const s = new MemoryStore({ dataDir: mirror, warn: (m) => warnings.push(m) });
  await s.open();
  t.equal(await s.size(), 4, '01, 02 (snapshot), 03, 05 (journal)');
  t.equal(s.getSync(key('+905320000001'))?.status, 'RET', 'journal replayed over the snapshot');
  t.equal(s.getSync(key('+905320000005'))?.status, 'RET', 'the record glued onto a torn line is recovered');
  t.equal(s.getSync(key('+905320000004')), null, 'the fragment is not a record');
  t.equal(s.getSync(key('+905320000006')), null, 'the torn last line is not a record');
  t.equal(await s.getMeta('sync.1.HS.after'), 'cursor-2', 'sync cursor (meta) kept');
  t.match(warnings.join('\n'), /glued onto a torn line/);
  t.match(warnings.join('\n'), /torn last line/);
  t.same(readFileSync(join(mirror, 'snapshot.log')).subarray(0, 8), LOG_MAGIC, 'snapshot rewritten framed at open');
  t.ok(existsSync(join(mirror, 'snapshot.log.legacy')) && existsSync(join(mirror, 'journal.log.legacy')), 'old files kept aside');
  await s.apply([mv({ recipient: '+905320000008', status: 'RET' })]);
  // crash: no close
  const ob = new Outbox({ dir: outboxDir, warn: (m) => warnings.push(m) });
  await ob.open();
  t.same((await ob.list()).map((i) => [i.id, i.attempts]), [['a', 2], ['b', 0]]);
  t.same(readFileSync(join(outboxDir, 'outbox.log')).subarray(0, 8), LOG_MAGIC, 'outbox log converted');
  await ob.add([{ brandCode: 1, origin: 'rejection', receivedAt: '2025-01-03T07:00:00.000Z', deadline: null, consent: { recipient: '+905320000009', type: 'MESAJ', recipientType: 'BIREYSEL', status: 'RET', source: 'HS_MESAJ', consentDate: '2025-01-03 10:00:00' } }]);

  // a second start (after a crash of the first: no close) reads the new format without warnings
  const later: string[] = [];
  const s2 = new MemoryStore({ dataDir: mirror + '-copy', warn: (m) => later.push(m) });
  const { cpSync } = await import('node:fs');
  cpSync(mirror, mirror + '-copy', { recursive: true });
  rmSync(join(mirror + '-copy', 'LOCK'), { force: true });
  await s2.open();
  t.teardown(() => s2.close());
  t.equal(await s2.size(), 5);
  t.equal(s2.getSync(key('+905320000008'))?.status, 'RET');
  t.equal(await s2.getMeta('sync.1.HS.after'), 'cursor-2');
  t.same(later, []);
  const ob2dir = outboxDir + '-copy';
  cpSync(outboxDir, ob2dir, { recursive: true });
  rmSync(join(ob2dir, 'LOCK'), { force: true });
  const ob2 = new Outbox({ dir: ob2dir, warn: (m) => later.push(m) });
  await ob2.open();
  t.teardown(() => ob2.close());
  t.same((await ob2.list()).map((i) => i.consent.recipient), ['+905320000001', '+905320000007', '+905320000009']);
  t.same(later, []);
  await s.close();
  await ob.close();
});
