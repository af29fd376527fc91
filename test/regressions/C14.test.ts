/**
 * C14 (field-cases.md): İYS refuses Turkish letters in an e-mail local part (H120), so such an
 * address can never carry consent; transliterating would match someone else's consent.
 */
import t from 'tap';
import { normalizeEmail, normalizeRecipient } from '../../src/domain/recipient.ts';

t.test('EPOSTA to örnek@example.com: not registrable, no crash, no transliteration', async (t) => {
  const r = normalizeRecipient('örnek@example.com', 'EPOSTA');
  t.same(r, { ok: true, kind: 'email', canonical: 'örnek@example.com', smsCapable: false, registrable: false, noncanonical: false });
  if (r.ok) t.not(r.canonical, 'ornek@example.com', 'never ö → o');
});

t.test('every Turkish letter in the local part, upper and lower case', async (t) => {
  for (const ch of ['ç', 'ğ', 'ı', 'ö', 'ş', 'ü', 'Ç', 'Ğ', 'İ', 'Ö', 'Ş', 'Ü']) {
    t.match(normalizeEmail(`ali${ch}@example.com`), { ok: true, registrable: false }, ch);
  }
  t.match(normalizeEmail('ornek@example.com'), { ok: true, canonical: 'ornek@example.com', registrable: true },
    'the transliterated address is a different, registrable key');
  t.match(normalizeEmail('Örnek@example.com'), { ok: true, canonical: 'Örnek@example.com', registrable: false },
    'only ASCII is case-folded; no fuzzy match');
});
