import t from 'tap';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadLetters } from '../../src/iys/dead-letters.ts';
import { readIysMovement } from '../../src/iys/iys-movement.ts';

const NOW = Date.parse('2026-11-28T10:00:00+03:00');
const raw = (over: Record<string, unknown> = {}) => ({ brandCode: 700001, recipient: '+905321250001', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'ONAY', source: 'IYS_WEB', consentDate: '2026-11-28 10:30:00', creationDate: '2026-11-28 10:30:00', ...over });

t.test('readIysMovement: the skew allowance, RET whatever its dates, refusals with a reason', async (t) => {
  t.match(readIysMovement(700001, raw({ consentDate: '2026-11-28 10:09:59', creationDate: '2026-11-28 10:09:59' }), NOW), { status: 'ONAY' }, 'within 10 min: applied');
  t.match(readIysMovement(700001, raw(), NOW), { reason: 'future_date', field: 'consentDate' });
  t.match(readIysMovement(700001, raw({ status: 'RET' }), NOW), { status: 'RET', consentDate: '2026-11-28 10:30:00' }, 'a future RET keeps its date and applies');
  t.match(readIysMovement(700001, raw({ status: 'RET', consentDate: 'garbage' }), NOW), { status: 'RET', consentDate: '2026-11-28 10:30:00' }, 'falls back to creationDate');
  t.match(readIysMovement(700001, raw({ status: 'RET', consentDate: '', creationDate: '' }), NOW), { status: 'RET', consentDate: '2026-11-28 10:00:00' }, 'falls back to the gateway now');
  t.match(readIysMovement(700001, raw({ status: 'RET', recipientType: 'TACIR', consentDate: '', creationDate: '' }), NOW), { status: 'RET', recipientType: 'TACIR', consentDate: null }, 'TACIR may lack dates (C08)');
  t.match(readIysMovement(700001, raw({ status: 'ONAY', source: 'X' }), NOW), { reason: 'invalid_field', field: 'source' });
  t.match(readIysMovement(700001, raw({ status: 'RET', type: 'SMS' }), NOW), { reason: 'unkeyable', field: 'type' });
  t.match(readIysMovement(700001, raw({ status: 'RET', recipient: { x: 1 } }), NOW), { reason: 'unkeyable', field: 'recipient' });
  t.match(readIysMovement(700001, null as never, NOW), { reason: 'unkeyable' });
});

t.test('DeadLetters: durable, replayed, deduplicated, torn tail skipped, resolved letters stay resolved', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-dl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const a = new DeadLetters({ dir, now: () => NOW });
  await a.open();
  const [l1] = await a.add([{ brandCode: 700001, via: 'pull', feed: 'IYS', reason: 'future_date', field: 'consentDate', message: 'm', raw: raw() }]);
  const [again] = await a.add([{ brandCode: 700001, via: 'push', reason: 'future_date', field: 'consentDate', message: 'm', raw: raw() }]);
  t.equal(again!.id, l1!.id, 'the same raw item is kept once');
  await a.add([{ brandCode: 700001, via: 'push', reason: 'invalid_field', field: 'source', message: 'm', raw: raw({ source: 'X' }) }]);
  await a.resolve([{ id: l1!.id, outcome: 'applied' }]);
  await a.close();
  appendFileSync(join(dir, 'dead-letters.log'), '{"op":"add","letter":{"id":"torn');
  const b = new DeadLetters({ dir });
  await b.open();
  t.same(b.summary(), { open: 1, openByReason: { future_date: 0, invalid_field: 1, unkeyable: 0, unknown_brand: 0 }, recorded: 2, resolved: 1 });
  t.equal(b.openLetters(700001)[0]!.raw.source, 'X');
  // the next record is not glued onto the torn fragment (append-log.ts cut it at open)
  await b.add([{ brandCode: 700001, via: 'pull', reason: 'unkeyable', field: 'type', message: 'm', raw: raw({ type: 'FAX' }) }]);
  await b.close();
  const c = new DeadLetters({ dir });
  await c.open();
  t.same(c.summary().openByReason, { future_date: 0, invalid_field: 1, unkeyable: 1, unknown_brand: 0 });
  await c.close();
  t.notMatch(readFileSync(join(dir, 'dead-letters.log'), 'latin1'), /"id":"torn/, 'the fragment is gone from the log');
});
