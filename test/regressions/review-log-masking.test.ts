// Issue 10, found by review: log masking masked dates and job ids too (`2026-11-29 10:00:00` and a
// job UUID became `***00`, `***78`), so logs lost what an operator needs, while it must keep every
// full phone number and e-mail address masked. Both are asserted, in maskPii and in real log lines.
import t from 'tap';
import { maskDeep, maskPii } from '../../src/plugins/redact.ts';
import { makeGateway } from '../helpers/gateway.ts';

const KEPT = [
  '2026-11-29 10:00:00', '2026-11-29T07:00:00.000Z', '2026-11-29T10:00:00+03:00', '2026-11-29', '29.11.2026', '29.11.2026 14:30',
  '3f2a1b4c-1234-5678-9abc-def012345678', '12345678-1234-4678-9abc-123456789012', 'order 12345', 'took 1234567 ms', 'line 204, column 7',
];
const MASKED: Array<[string, string]> = [
  ['+905321234567', '***67'], ['05321234567', '***67'], ['5321234567', '***67'], ['0532 123 45 67', '***67'], ['(0532) 123-45-67', '(***67'],
  ['+90 532 123 45 67', '***67'], ['0090 532 123 4567', '***67'], ['905321234567', '***67'], ['0555 000 00 04 (cep)', '***04 (cep)'],
  ['Tel:05550000004', 'Tel:***04'], ['%2B905551234567', '%2B***67'], ['+49 30 1234567', '***67'],
  ['ali.veli@example.com', '***@example.com'], ['Ayse@Example.COM.tr', '***@Example.COM.tr'],
];

t.test('maskPii leaves dates, times and ids, masks every phone number and address', async (t) => {
  for (const s of KEPT) t.equal(maskPii(s), s, `kept: ${s}`);
  for (const [s, m] of MASKED) t.equal(maskPii(s), m, `masked: ${s}`);
  // side by side in one line
  t.equal(maskPii('job 3f2a1b4c-1234-5678-9abc-def012345678 at 2026-11-29 10:00:00: 05321234567 refused'),
    'job 3f2a1b4c-1234-5678-9abc-def012345678 at 2026-11-29 10:00:00: ***67 refused');
  t.equal(maskPii('2026-11-29 05321234567'), '2026-11-29 ***67', 'a number right after a date');
  t.equal(maskPii('2026-11-2905321234567'), '***67', 'glued to a date: masked whole (fail safe)');
  t.equal(maskPii('0532-12-20-06-77'), '***77', 'a number that looks like a date but is not one');
});

t.test('real log lines keep dates and job ids, never a full recipient', async (t) => {
  const gw = await makeGateway(t, { logLevel: 'info' });
  gw.app.log.warn({ upload: '3f2a1b4c-1234-5678-9abc-def012345678', reportDate: '2026-11-28', recipient: '+905321234567', email: 'ali@example.com' }, 'upload 3f2a1b4c-1234-5678-9abc-def012345678 line for 0532 123 45 67 at 2026-11-29 10:00:00');
  const out = gw.logs.join('');
  t.match(out, /"upload":"3f2a1b4c-1234-5678-9abc-def012345678"/);
  t.match(out, /"reportDate":"2026-11-28"/);
  t.match(out, /at 2026-11-29 10:00:00/);
  t.match(out, /line for \*\*\*67/);
  t.notMatch(out, /5321234567/, 'no full phone number');
  t.notMatch(out, /ali@example\.com/, 'no full address');
  const deep = maskDeep({ a: { at: '2026-11-29 10:00:00', to: ['05321234567'] } }) as { a: { at: string; to: string[] } };
  t.same(deep, { a: { at: '2026-11-29 10:00:00', to: ['***67'] } });
});
