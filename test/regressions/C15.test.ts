/**
 * C15 (field-cases.md): many spellings of one Turkish mobile; İYS wants strict E.164 with `+`.
 * Too short or too long is an error before any lookup, never truncated or padded.
 */
import t from 'tap';
import { normalizePhone, normalizeRecipient } from '../../src/domain/recipient.ts';

t.test('all variants → +905550000001', async (t) => {
  for (const s of ['05550000001', '5550000001', '905550000001', '00905550000001', '+90 0555 000 00 01', '(0555) 000-0001', '+905550000001']) {
    t.same(normalizePhone(s), { ok: true, kind: 'phone', canonical: '+905550000001', smsCapable: true, registrable: true, noncanonical: false }, s);
  }
});

t.test('905550000001 meant for İYS becomes +905550000001 (raw would be H121)', async (t) => {
  t.match(normalizeRecipient('905550000001', 'MESAJ'), { ok: true, canonical: '+905550000001' });
});

t.test('too short / too long → error, never padded or truncated', async (t) => {
  t.match(normalizePhone('+90555000000'), { ok: false, error: 'TOO_SHORT' });
  t.match(normalizePhone('+9055500000012'), { ok: false, error: 'TOO_LONG' });
  t.match(normalizePhone('0555000000'), { ok: false, error: 'TOO_SHORT' });
  t.match(normalizePhone('055500000012'), { ok: false, error: 'TOO_LONG' });
});
