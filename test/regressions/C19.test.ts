/**
 * C19 (field-cases.md): the same address arrives as Unicode or punycode; strict validators reject
 * legal addresses. Canonicalise the domain (IDNA to ASCII, lower-case) on ingest and lookup.
 */
import t from 'tap';
import { normalizeEmail, normalizeIysRecipient, normalizeRecipient } from '../../src/domain/recipient.ts';

t.test('user@ÖRNEK.com.tr and mirror row user@xn--rnek-4qa.com.tr → same key', async (t) => {
  const lookup = normalizeRecipient('user@ÖRNEK.com.tr', 'EPOSTA');
  const ingest = normalizeIysRecipient('user@xn--rnek-4qa.com.tr', 'EPOSTA');
  const want = { ok: true, kind: 'email', canonical: 'user@xn--rnek-4qa.com.tr', smsCapable: false, registrable: true, noncanonical: false };
  t.same(lookup, want);
  t.same(ingest, want);
});

t.test('permissive syntax: legal addresses are not rejected', async (t) => {
  for (const s of ['user@örnek.com.tr', 'USER@XN--RNEK-4QA.COM.TR', 'user@örnek.com.tr.']) {
    t.match(normalizeEmail(s), { ok: true, canonical: 'user@xn--rnek-4qa.com.tr', registrable: true }, s);
  }
  t.match(normalizeEmail('_a.b--c+tag@sub.örnek.com.tr'), { ok: true, canonical: '_a.b--c+tag@sub.xn--rnek-4qa.com.tr', registrable: true });
});
