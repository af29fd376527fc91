import t from 'tap';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  normalizeEmail, normalizeIysRecipient, normalizePhone, normalizeRecipient,
  type NormalizedRecipient, type RecipientError,
} from '../../src/domain/recipient.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface PhoneVector { input: string; canonical?: string; smsCapable?: boolean; error?: string }
interface EmailVector { input: string; canonical?: string; notRegistrable?: string; error?: string }
const vectors = JSON.parse(readFileSync(new URL('../fixtures/recipients.json', import.meta.url), 'utf8')) as {
  phone: PhoneVector[]; email: EmailVector[];
};

/** Fixture error wording → our code. */
const PHONE_ERRORS: Record<string, RecipientError> = {
  'too short': 'TOO_SHORT',
  'too long': 'TOO_LONG',
  'not E.164': 'NOT_E164',
  extension: 'EXTENSION',
  'not a phone number': 'NOT_A_PHONE',
  empty: 'EMPTY',
};

t.test('every phone vector of recipients.json holds', async (t) => {
  t.equal(vectors.phone.length, 16);
  for (const v of vectors.phone) {
    const r = normalizePhone(v.input);
    if (v.error !== undefined) {
      t.same(r.ok ? null : r.error, PHONE_ERRORS[v.error], `${JSON.stringify(v.input)} → ${v.error}`);
    } else {
      t.same(r, { ok: true, kind: 'phone', canonical: v.canonical, smsCapable: v.smsCapable, registrable: true, noncanonical: false },
        `${JSON.stringify(v.input)} → ${v.canonical}`);
      t.same(normalizeRecipient(v.input), r, 'dispatch without type');
      t.same(normalizeRecipient(v.input, 'MESAJ'), r, 'dispatch with MESAJ');
    }
  }
});

t.test('every e-mail vector of recipients.json holds', async (t) => {
  t.equal(vectors.email.length, 10);
  for (const v of vectors.email) {
    const r = normalizeEmail(v.input);
    if (v.error !== undefined) {
      t.same(r.ok ? null : r.error, 'INVALID_EMAIL', `${JSON.stringify(v.input)} → error (${v.error})`);
    } else if (v.notRegistrable !== undefined) {
      t.same(r, { ok: true, kind: 'email', canonical: v.input, smsCapable: false, registrable: false, noncanonical: false });
    } else {
      t.same(r, { ok: true, kind: 'email', canonical: v.canonical, smsCapable: false, registrable: true, noncanonical: false },
        `${JSON.stringify(v.input)} → ${v.canonical}`);
      t.same(normalizeRecipient(v.input, 'EPOSTA'), r);
      t.same(normalizeRecipient(v.input), r);
    }
  }
});

t.test('reference §6.1 extra phone spellings', async (t) => {
  const canon = (s: string) => { const r = normalizePhone(s); return r.ok ? r.canonical : r.error; };
  t.equal(canon('0090 532 123 4567'), '+905321234567');
  t.equal(canon('+90 0532 123 45 67'), '+905321234567', 'trunk 0 after +90 dropped (C15)');
  t.equal(canon('+9005321234567'), '+905321234567', 'P8');
  t.equal(canon('9005321234567'), '+905321234567');
  t.equal(canon('+1 212 555 0100'), '+12125550100', 'P15');
  t.equal(canon('0532-123-45-67'), '+905321234567');
  t.equal(canon('0532.123.45.67'), '+905321234567');
  t.equal(canon('0532\u00a0123\u00a045\u00a067'), '+905321234567', 'NBSP separators');
  t.equal(canon('0444 1 444'), '+904441444', 'nationwide 444 number');
  t.equal(canon('444 14 44'), '+904441444');
  t.equal(canon('0532 123 45 67 ext. 5'), 'EXTENSION');
  t.equal(canon('+905321234567;ext=12'), 'EXTENSION');
  t.equal(canon('0532 123 45 67 x12'), 'EXTENSION');
  t.equal(canon('0532 123 45 67 #12'), 'EXTENSION');
  t.equal(canon('0532 12a 45 67'), 'NOT_A_PHONE');
  t.equal(canon('+90 532 +123 45 67'), 'NOT_A_PHONE', 'a second +');
  t.equal(canon('+'), 'NOT_A_PHONE');
  t.equal(canon('   '), 'EMPTY');
  t.equal(canon('0532123456'), 'TOO_SHORT', '9 national digits');
  t.equal(canon('053212345678'), 'TOO_LONG', '11 national digits');
  t.equal(canon('+90555000000'), 'TOO_SHORT', 'C15 9 digits');
  t.equal(canon('+9055500000012'), 'TOO_LONG', 'C15 11 digits');
  t.equal(canon('+90 200 123 45 67'), 'NOT_A_PHONE', 'no such area code');
  t.equal(canon('+90 0000 123 45 67'), 'NOT_A_PHONE');
  t.equal(canon('0762 123 45 67'), 'NOT_A_PHONE', '7xx is not in the Turkish plan');
  t.equal(canon('+1234567890123456'), 'TOO_LONG', '16 digits > E.164 maximum');
  t.equal(canon('+999 1234567'), 'NOT_A_PHONE', 'unknown country code');
  t.equal(canon('0'.repeat(100)), 'TOO_LONG');
});

t.test('Turkish mobile-ness is decided by the national number, not libphonenumber validity', async (t) => {
  // +90561… is not valid in libphonenumber-js metadata (1.13.x) but is a 5xx mobile range.
  t.same(normalizePhone('0561 123 45 67'), { ok: true, kind: 'phone', canonical: '+905611234567', smsCapable: true, registrable: true, noncanonical: false });
  t.match(normalizePhone('+90 312 123 45 67'), { ok: true, canonical: '+903121234567', smsCapable: false });
  t.match(normalizePhone('0800 123 45 67'), { ok: true, canonical: '+908001234567', smsCapable: false });
  t.match(normalizePhone('0900 123 45 67'), { ok: true, canonical: '+909001234567', smsCapable: false });
  t.match(normalizePhone('+90 444 1 444'), { ok: true, canonical: '+904441444', smsCapable: false });
});

t.test('foreign numbers: canonical E.164, smsCapable by libphonenumber type', async (t) => {
  t.same(normalizePhone('+44 7911 123456'), { ok: true, kind: 'phone', canonical: '+447911123456', smsCapable: true, registrable: true, noncanonical: false });
  t.match(normalizePhone('0049 151 12345678'), { ok: true, canonical: '+4915112345678', smsCapable: true });
  t.match(normalizePhone('+44 20 7946 0958'), { ok: true, canonical: '+442079460958', smsCapable: false });
  t.match(normalizePhone('+1 212 555 0100'), { ok: true, canonical: '+12125550100', smsCapable: true }, 'NANP: FIXED_LINE_OR_MOBILE');
  t.match(normalizePhone('+44 7911'), { ok: false, error: 'TOO_SHORT' });
});

t.test('error results carry a message without the input', async (t) => {
  const r = normalizePhone('0532 123 45 67 dahili 12');
  t.same(r, { ok: false, error: 'EXTENSION', message: 'phone number carries an extension' });
  const e = normalizeEmail('ali veli@example.com');
  t.equal(e.ok, false);
  if (!e.ok) t.notMatch(e.message, /ali|veli|example/);
});

t.test('e-mail folding and validation', async (t) => {
  const canon = (s: string) => { const r = normalizeEmail(s); return r.ok ? `${r.canonical}${r.registrable ? '' : ' (not registrable)'}` : r.error; };
  t.equal(canon('INFO@EXAMPLE.COM'), 'info@example.com');
  t.equal(canon('Info@Example.com'), 'info@example.com');
  t.equal(canon('user@ÖRNEK.com.tr'), 'user@xn--rnek-4qa.com.tr', 'C19 IDNA');
  t.equal(canon('user@xn--rnek-4qa.com.tr'), 'user@xn--rnek-4qa.com.tr');
  t.equal(canon('user@örnek.com.tr'), 'user@xn--rnek-4qa.com.tr');
  t.equal(canon('user@example.com.'), 'user@example.com', 'trailing dot of the domain dropped');
  t.equal(canon('A.B.C+Tag@Example.COM'), 'a.b.c+tag@example.com', 'dots and +tags kept');
  t.equal(canon('.ali@example.com'), '.ali@example.com', 'İYS 1.0.6: may start with a dot');
  t.equal(canon('İLETİŞİM@EXAMPLE.COM'), 'İletİŞİm@example.com (not registrable)', 'Turkish capitals: only ASCII folded, no combining dots');
  t.equal(canon('örnek@mail.com'), 'örnek@mail.com (not registrable)', 'E2 / C14: no transliteration');
  t.equal(canon('o\'brien@example.com'), "o'brien@example.com (not registrable)", 'İYS-forbidden character');
  t.equal(canon('ali%x@example.com'), 'ali%x@example.com (not registrable)');
  t.equal(canon('a@b.co'), 'a@b.co');
  t.equal(canon('a@b.c'), 'INVALID_EMAIL', 'E4');
  t.equal(canon('ab@cd'), 'INVALID_EMAIL', 'domain without dot');
  t.equal(canon('a@@example.com'), 'INVALID_EMAIL');
  t.equal(canon('a@b@example.com'), 'INVALID_EMAIL');
  t.equal(canon('@example.com'), 'INVALID_EMAIL');
  t.equal(canon('ali@'), 'INVALID_EMAIL');
  t.equal(canon('ali@exa mple.com'), 'INVALID_EMAIL');
  t.equal(canon('ali@exa_mple.com'), 'INVALID_EMAIL', 'underscore in host name');
  t.equal(canon('ali@[192.168.0.1]'), 'INVALID_EMAIL');
  t.equal(canon('ali\u200b@example.com'), 'INVALID_EMAIL', 'zero-width space');
  t.equal(canon(''), 'EMPTY');
  t.equal(canon(' \t'), 'EMPTY');
  const local = 'a'.repeat(253);
  t.equal(canon(`${local}@bc.de`), `${local}@bc.de`, '259 characters');
  t.equal(canon(`${'a'.repeat(259)}@bc.de`), `${'a'.repeat(259)}@bc.de`, '265 characters');
  t.equal(canon(`${'a'.repeat(260)}@bc.de`), 'INVALID_EMAIL', 'E8: 266 characters');
  t.equal(canon('Ali@Example.COM'), canon('ali@example.com'));
});

t.test('dispatch by type', async (t) => {
  t.match(normalizeRecipient('ali@example.com', 'MESAJ'), { ok: false, error: 'NOT_A_PHONE' }, 'e-mail under MESAJ (H464)');
  t.match(normalizeRecipient('+905321234567', 'EPOSTA'), { ok: false, error: 'INVALID_EMAIL' }, 'phone under EPOSTA (H464)');
  t.match(normalizeRecipient('05321234567', 'ARAMA'), { ok: true, kind: 'phone', canonical: '+905321234567' });
  t.match(normalizeRecipient('ALI@EXAMPLE.COM'), { ok: true, kind: 'email', canonical: 'ali@example.com' });
});

t.test('normalizeIysRecipient flags raw strings that are not canonical (C01)', async (t) => {
  t.same(normalizeIysRecipient('+9005550000001', 'MESAJ'), { ok: true, kind: 'phone', canonical: '+905550000001', smsCapable: true, registrable: true, noncanonical: true });
  t.same(normalizeIysRecipient('+905550000001', 'MESAJ'), { ok: true, kind: 'phone', canonical: '+905550000001', smsCapable: true, registrable: true, noncanonical: false });
  t.match(normalizeIysRecipient('+902121230000', 'ARAMA'), { ok: true, canonical: '+902121230000', smsCapable: false, noncanonical: false });
  t.match(normalizeIysRecipient('905321234567', 'MESAJ'), { ok: true, canonical: '+905321234567', noncanonical: true }, 'no +');
  t.match(normalizeIysRecipient('+900212123 0000', 'ARAMA'), { ok: true, canonical: '+902121230000', noncanonical: true });
  t.match(normalizeIysRecipient('+447911123456', 'MESAJ'), { ok: true, canonical: '+447911123456', noncanonical: false });
  t.same(normalizeIysRecipient('ali@example.com', 'EPOSTA'), { ok: true, kind: 'email', canonical: 'ali@example.com', smsCapable: false, registrable: true, noncanonical: false });
  t.match(normalizeIysRecipient('+05543213232', 'MESAJ'), { ok: false, error: 'NOT_E164' });
});

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('fast path and slow path agree', async (t) => {
  const rand = rng(42);
  const pick = (chars: string, n: number) => Array.from({ length: n }, () => chars[Math.floor(rand() * chars.length)]).join('');
  let phones = 0;
  for (let i = 0; i < 2000; i++) {
    const canonical = '+905' + pick('0123456789', 9);
    const fast = normalizePhone(canonical);
    // Leading/trailing whitespace and separators bypass the fast path.
    const slow = normalizePhone(` ${canonical} `);
    const spaced = normalizePhone(`0${canonical.slice(3, 6)} ${canonical.slice(6)}`);
    if (JSON.stringify(fast) !== JSON.stringify(slow) || JSON.stringify(fast) !== JSON.stringify(spaced)) {
      t.fail(`disagree on ${canonical}`);
    } else if (JSON.stringify(normalizeIysRecipient(canonical, 'MESAJ')) !== JSON.stringify(fast)) {
      t.fail(`İYS fast path disagrees on ${canonical}`);
    } else phones++;
  }
  t.equal(phones, 2000, 'all 2000 random canonical mobiles agree');

  let emails = 0;
  const localChars = 'abcdefghijklmnopqrstuvwxyz0123456789._+-';
  const labelChars = 'abcdefghijklmnopqrstuvwxyz0123456789-';
  for (let i = 0; i < 2000; i++) {
    const label = () => { let l = pick(labelChars, 1 + Math.floor(rand() * 10)); if (l.startsWith('-')) l = 'a' + l.slice(1); if (l.endsWith('-')) l = l.slice(0, -1) + 'z'; return l; };
    const addr = `${pick(localChars, 1 + Math.floor(rand() * 12))}@${label()}.${pick('abcdefghijklmnopqrstuvwxyz', 2 + Math.floor(rand() * 4))}`;
    const fast = normalizeEmail(addr);
    const slow = normalizeEmail(`\t${addr} `);
    const upper = normalizeEmail(addr.toUpperCase());
    if (JSON.stringify(fast) === JSON.stringify(slow) && JSON.stringify(fast) === JSON.stringify(upper)) emails++;
    else t.fail(`disagree on ${addr}: ${JSON.stringify([fast, slow, upper])}`);
  }
  t.equal(emails, 2000, 'all 2000 random lower-case ASCII addresses agree');
  // Punycode labels skip the fast path: IDNA validates them (invalid punycode is rejected both ways).
  for (const addr of ['a--b@xn--rnek-4qa.com.tr', 'ab@xn--ls8h.la', 'ab@ab--cd.com', 'a@xn--a.com', 'ab@xn--123.com']) {
    t.same(normalizeEmail(addr), normalizeEmail(` ${addr}`), addr);
  }
  t.match(normalizeEmail('a@xn--a.com'), { ok: false, error: 'INVALID_EMAIL' }, 'invalid punycode label');
  t.match(normalizeEmail('ab@xn--rnek-4qa.com.tr'), { ok: true, canonical: 'ab@xn--rnek-4qa.com.tr' });
});

t.test('fast path never disagrees with the slow path on fuzzed near-canonical input', async (t) => {
  const rand = rng(99);
  const parts = ['a', 'b', 'z', '0', '9', '.', '-', '_', '+', '@', 'xn--', 'com', 'tr', 'A', 'ö', '%', '--', '.co'];
  const digitsParts = ['+', '9', '0', '5', '1', '2', '3', ' ', '-'];
  let emails = 0;
  let phones = 0;
  for (let i = 0; i < 20000; i++) {
    const e = Array.from({ length: 2 + Math.floor(rand() * 8) }, () => parts[Math.floor(rand() * parts.length)]).join('');
    if (JSON.stringify(normalizeEmail(e)) === JSON.stringify(normalizeEmail(` ${e}`))) emails++;
    else t.fail(`e-mail paths disagree on ${JSON.stringify(e)}`);
    const p = '+905' + Array.from({ length: 7 + Math.floor(rand() * 5) }, () => digitsParts[Math.floor(rand() * digitsParts.length)]).join('');
    if (JSON.stringify(normalizePhone(p)) === JSON.stringify(normalizePhone(` ${p}`))) phones++;
    else t.fail(`phone paths disagree on ${JSON.stringify(p)}`);
  }
  t.equal(emails, 20000);
  t.equal(phones, 20000);
});

t.test('never throws on arbitrary input', async (t) => {
  const rand = rng(7);
  const alphabet = '0123456789+()-. @aAİıöÖx#;,=\t\u00a0\u0000é_';
  let n = 0;
  for (let i = 0; i < 5000; i++) {
    const s = Array.from({ length: Math.floor(rand() * 30) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    const results: NormalizedRecipient[] = [normalizeRecipient(s), normalizePhone(s), normalizeEmail(s), normalizeIysRecipient(s, 'MESAJ')];
    for (const r of results) {
      if (r.ok && r.kind === 'phone' && !/^\+[1-9]\d{6,14}$/.test(r.canonical)) t.fail(`bad canonical ${r.canonical}`);
      if (r.ok && r.kind === 'phone' && r.canonical.startsWith('+900')) t.fail(`emitted +900… for ${s}`);
    }
    n++;
  }
  t.equal(n, 5000);
});

t.test('identical results under LANG=tr_TR.UTF-8 and TZ=UTC (child process)', async (t) => {
  const inputs = ['INFO@EXAMPLE.COM', 'Info@Example.com', 'İLETİŞİM@EXAMPLE.COM', 'user@ÖRNEK.com.tr', 'ISIL@IZMIR.COM', '05321234567', '+90 0555 000 00 01'];
  const code = `const m = await import(${JSON.stringify(new URL('../../src/domain/recipient.ts', import.meta.url).href)});
    const inputs = ${JSON.stringify(inputs)};
    console.log(JSON.stringify({ locale: Intl.DateTimeFormat().resolvedOptions().locale, results: inputs.map((s) => m.normalizeRecipient(s)) }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root, env: { ...process.env, LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8', TZ: 'UTC' }, encoding: 'utf8',
  });
  const child = JSON.parse(out) as { locale: string; results: NormalizedRecipient[] };
  t.equal(child.locale, 'tr-TR', 'the child really runs with a Turkish default locale');
  t.same(child.results, inputs.map((s) => normalizeRecipient(s)));
  t.match(child.results[0], { ok: true, canonical: 'info@example.com' });
  t.match(child.results[4], { ok: true, canonical: 'isil@izmir.com', registrable: true });
});
