/**
 * C01 (field-cases.md): İYS holds numbers registered as `+9005…`; lookups use `+905…`.
 * Normalization part: the raw İYS string maps to the canonical key and is flagged noncanonical;
 * the user's spelling maps to the same key; nothing we produce is ever `+9005…`.
 */
import t from 'tap';
import { normalizeIysRecipient, normalizePhone, normalizeRecipient } from '../../src/domain/recipient.ts';

t.test('mirror row from İYS: +9005550000001 → +905550000001, noncanonical', async (t) => {
  t.same(normalizeIysRecipient('+9005550000001', 'MESAJ'), {
    ok: true, kind: 'phone', canonical: '+905550000001', smsCapable: true, registrable: true, noncanonical: true,
  });
  t.match(normalizeIysRecipient('+9005550000001', 'ARAMA'), { ok: true, canonical: '+905550000001', noncanonical: true });
  t.match(normalizeIysRecipient('+905550000001', 'MESAJ'), { ok: true, canonical: '+905550000001', noncanonical: false },
    'a canonical İYS row is not flagged');
});

t.test('user input 05550000001 → same key +905550000001', async (t) => {
  t.same(normalizePhone('05550000001'), {
    ok: true, kind: 'phone', canonical: '+905550000001', smsCapable: true, registrable: true, noncanonical: false,
  });
  t.match(normalizeRecipient('05550000001', 'MESAJ'), { ok: true, canonical: '+905550000001' });
});

t.test('never emit +9005… (what we would send to İYS is always canonical)', async (t) => {
  for (const s of ['+9005550000001', '9005550000001', '009005550000001', '+90 0555 000 00 01']) {
    const r = normalizePhone(s);
    t.match(r, { ok: true, canonical: '+905550000001' }, s);
  }
  t.match(normalizePhone('+05543213232'), { ok: false, error: 'NOT_E164' }, '+0… is rejected locally (H121)');
});
