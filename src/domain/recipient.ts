/**
 * Recipient normalization: user input or an İYS recipient string → the canonical key used for
 * mirror lookups and for every İYS call (DOMAIN.md §3; iys-reference.md §4.1, §4.2, §6.1, §6.2).
 *
 * Hot path (≈500,000 recipients/s in batches): nothing here throws on bad input; every function
 * returns a {@link NormalizedRecipient} result object. Already-canonical inputs (`+905XXXXXXXXX`,
 * plain lower-case ASCII e-mail) take a fast path that never touches libphonenumber or IDNA; the
 * slow path gives the same result for them (test/domain/recipient.test.ts proves it).
 *
 * Locale: nothing here depends on the process locale (`LANG`, `LC_ALL`) or time zone. Only ASCII
 * letters are case-folded; `toLocale*Case` is never used (field case C18).
 */
import { domainToASCII } from 'node:url';
import { parsePhoneNumberFromString, validatePhoneNumberLength } from 'libphonenumber-js/max';
import type { ConsentType } from './types.ts';

/** Why a recipient could not be normalized. Stable values: callers branch on them. */
export type RecipientError =
  | 'EMPTY' | 'TOO_SHORT' | 'TOO_LONG' | 'NOT_E164' | 'EXTENSION' | 'NOT_A_PHONE' | 'INVALID_EMAIL';

/**
 * Result of normalization.
 * - phone: `canonical` is E.164 with `+` (≤ 15 digits). `smsCapable` is true only for numbers that
 *   can take SMS (Turkish mobiles `+905…`; foreign numbers libphonenumber types as mobile).
 *   `noncanonical` is true only from {@link normalizeIysRecipient} when İYS holds the number in a
 *   form other than canonical E.164 (`+9005…`, field case C01).
 * - email: `canonical` is the folded form (ASCII lower-case local part, IDNA ASCII domain without a
 *   trailing dot). `registrable: false` means İYS can never register the address (H120: Turkish or
 *   other non-ASCII letters in the local part, or a character İYS forbids), so it can never carry
 *   consent (field case C14).
 * - error: `message` is a short English text without the input (no personal data).
 */
export type NormalizedRecipient =
  | { ok: true; kind: 'phone'; canonical: string; smsCapable: boolean; registrable: true; noncanonical: boolean }
  | { ok: true; kind: 'email'; canonical: string; smsCapable: false; registrable: boolean; noncanonical: false }
  | { ok: false; error: RecipientError; message: string };

type Fail = Extract<NormalizedRecipient, { ok: false }>;
type PhoneOk = Extract<NormalizedRecipient, { ok: true; kind: 'phone' }>;

const MESSAGES: Record<RecipientError, string> = {
  EMPTY: 'recipient is empty',
  TOO_SHORT: 'phone number has too few digits',
  TOO_LONG: 'phone number has too many digits',
  NOT_E164: 'phone number is not E.164 (a country code never starts with 0)',
  EXTENSION: 'phone number carries an extension',
  NOT_A_PHONE: 'not a phone number',
  INVALID_EMAIL: 'not an e-mail address',
};

function fail(error: RecipientError, detail?: string): Fail {
  return { ok: false, error, message: detail === undefined ? MESSAGES[error] : `${MESSAGES[error]}: ${detail}` };
}

function phone(canonical: string, smsCapable: boolean, noncanonical = false): PhoneOk {
  return { ok: true, kind: 'phone', canonical, smsCapable, registrable: true, noncanonical };
}

// ------------------------------------------------------------------------------------------------
// Phones
// ------------------------------------------------------------------------------------------------

/** Canonical Turkish mobile: +90, then 10 national digits starting with 5 (13 characters). */
const CANONICAL_TR_MOBILE = /^\+905\d{9}$/;
/** Inputs longer than this are rejected before any scanning (no E.164 spelling needs more). */
const MAX_PHONE_INPUT = 64;
/** E.164: at most 15 digits after `+` (ITU-T E.164 §6; İYS H160/H166). */
const E164_MAX_DIGITS = 15;
/** Shortest E.164 number libphonenumber knows (e.g. some Pacific islands: cc + 4 digits). */
const E164_MIN_DIGITS = 7;
/** Marks that introduce an extension after the digits (Turkish `dahili`, `ext`, `x`, `#`, RFC 3966 `;ext=`, dial pauses). */
const EXTENSION_MARK = /^(?:dahili|dah|ext|extension|x|#|;ext|;|,|w|p)$/i;
/** Separators people type between digits: whitespace (incl. NBSP), dashes, dots, slashes, parens. */
const SEPARATORS = /[\s\u00a0\u2010-\u2015\-./()]/g;

/**
 * Classifies a Turkish national significant number (digits after +90) structurally, following the
 * BTK numbering plan rather than libphonenumber's validity (its metadata lags new mobile/MVNO
 * ranges, DOMAIN.md §3): 10 digits starting with 5 = mobile; 10 digits starting with 2, 3 or 4 =
 * geographic landline; 10 digits starting with 8 or 9 = non-geographic (0850, 0800, 0900, …);
 * `444XXXX` (7 digits) = nationwide UAN number. Landline and non-geographic numbers must also be
 * libphonenumber-valid (İYS validates with libphonenumber, iys-reference.md §4.1).
 */
function classifyTurkish(nsn: string, noncanonical: boolean): NormalizedRecipient {
  const first = nsn.charCodeAt(0);
  if (nsn.length === 7 && nsn.startsWith('444')) return phone('+90' + nsn, false, noncanonical);
  if (nsn.length < 10) return fail('TOO_SHORT', `Turkish numbers have 10 national digits, got ${nsn.length}`);
  if (nsn.length > 10) return fail('TOO_LONG', `Turkish numbers have 10 national digits, got ${nsn.length}`);
  if (first === 0x35 /* 5 */) return phone('+90' + nsn, true, noncanonical);
  if (first === 0x32 || first === 0x33 || first === 0x34 || first === 0x38 || first === 0x39) {
    const parsed = parsePhoneNumberFromString('+90' + nsn);
    if (parsed === undefined || !parsed.isValid()) return fail('NOT_A_PHONE', 'not in the Turkish numbering plan');
    return phone('+90' + nsn, false, noncanonical);
  }
  return fail('NOT_A_PHONE', 'not in the Turkish numbering plan');
}

/** Foreign (non +90) E.164 digits → result; smsCapable from libphonenumber's number type. */
function classifyForeign(digits: string): NormalizedRecipient {
  if (digits.length > E164_MAX_DIGITS) return fail('TOO_LONG', `E.164 allows at most ${E164_MAX_DIGITS} digits`);
  if (digits.length < E164_MIN_DIGITS) return fail('TOO_SHORT');
  const e164 = '+' + digits;
  const parsed = parsePhoneNumberFromString(e164);
  if (parsed === undefined || !parsed.isPossible()) {
    // Only on the error path: ask for the reason (a second parse).
    const lengthProblem = validatePhoneNumberLength(e164);
    if (lengthProblem === 'TOO_SHORT') return fail('TOO_SHORT');
    if (lengthProblem === 'TOO_LONG') return fail('TOO_LONG');
    return fail('NOT_A_PHONE', lengthProblem === undefined ? undefined : lengthProblem.toLowerCase().replace(/_/g, ' '));
  }
  // getType() is undefined for a number libphonenumber does not hold valid: not SMS-capable (fail closed).
  const type = parsed.getType();
  const smsCapable = type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE';
  return phone(parsed.number, smsCapable);
}

/**
 * Normalizes a phone number typed by a user or sent by a client.
 *
 * Accepted spellings (default region Turkey): `05321234567`, `5321234567`, `905321234567`,
 * `00905321234567`, `+90 532 123 45 67`, `(0532) 123-45-67`, `+90 (532) 123 45 67`, surrounding
 * whitespace; foreign numbers only with `+` or `00` (`+1 212 555 0100`). All Turkish spellings of
 * one number give one key `+90XXXXXXXXXX` (field case C15, reference §6.1 P1–P16).
 *
 * Decisions:
 * - `+90` followed by the trunk `0` (`+90 0555 000 00 01`, `+9005550000001`, `009005…`) is the
 *   human spelling of the same number: the trunk 0 is dropped (C15, reference P8). The output is
 *   never `+9005…`, so such a number is never sent to İYS (C01). `noncanonical` stays false: the
 *   key is canonical, the lookup proceeds normally.
 * - `+0…` (`+05543213232`) is `NOT_E164`: a country code never starts with 0 and guessing what
 *   was meant could hit someone else's consent (İYS H121).
 * - Too few or too many digits is `TOO_SHORT` / `TOO_LONG`: never padded or truncated.
 * - An extension (`dahili 12`, `ext 5`, `x5`, `#5`, `;ext=5`) is `EXTENSION`: a message cannot
 *   be addressed to an extension and İYS has no field for it.
 * - Mobile-ness of Turkish numbers is decided by the national number (see classifyTurkish);
 *   libphonenumber-js (`/max` metadata, which carries number types) decides foreign numbers.
 *
 * Never throws.
 */
export function normalizePhone(input: string): NormalizedRecipient {
  if (CANONICAL_TR_MOBILE.test(input)) return phone(input, true);
  // The slow path (libphonenumber, ~8 µs) is memoized: landlines and spelled numbers repeat in
  // traffic. Results are immutable; the memo is bounded and simply cleared when full.
  if (input.length > 40) return slowPhone(input); // only plausible spellings are memoized (bounded memory)
  let r = SLOW_MEMO.get(input);
  if (r === undefined) {
    r = slowPhone(input);
    if (SLOW_MEMO.size >= SLOW_MEMO_MAX) SLOW_MEMO.clear();
    SLOW_MEMO.set(input, r);
  }
  return r;
}

const SLOW_MEMO = new Map<string, NormalizedRecipient>();
const SLOW_MEMO_MAX = 50_000;

/** The full phone parser (everything but the fast path). */
function slowPhone(input: string): NormalizedRecipient {
  const trimmed = input.trim();
  if (trimmed.length === 0) return fail('EMPTY');
  if (trimmed.length > MAX_PHONE_INPUT) return fail('TOO_LONG');

  let body = trimmed;
  let plus = false;
  if (body.charCodeAt(0) === 0x2b /* + */) {
    plus = true;
    body = body.slice(1);
  }
  const compact = body.replace(SEPARATORS, '');
  if (compact.length === 0) return fail('NOT_A_PHONE');
  if (!/^\d+$/.test(compact)) {
    // Digits followed by an extension marker and more digits → EXTENSION; anything else → not a phone.
    const m = /^\d+(\D+?)[=:]?\d+$/.exec(compact);
    if (m !== null && m[1] !== undefined && EXTENSION_MARK.test(m[1])) return fail('EXTENSION');
    return fail('NOT_A_PHONE');
  }

  let digits: string; // E.164 digits without '+'
  if (plus) {
    if (compact.charCodeAt(0) === 0x30 /* 0 */) return fail('NOT_E164');
    digits = compact;
  } else if (compact.startsWith('00')) {
    digits = compact.slice(2);
    if (digits.length === 0 || digits.charCodeAt(0) === 0x30) return fail('NOT_E164');
  } else if (compact.charCodeAt(0) === 0x30 /* trunk 0 */) {
    return classifyTurkish(compact.slice(1), false);
  } else if (compact.startsWith('90') && compact.length >= 11) {
    // 90XXXXXXXXXX without '+': the country code typed without its prefix (C15, reference P7).
    digits = compact;
  } else {
    // Default region Turkey: a national number without the trunk 0 (5321234567, 4441444).
    return classifyTurkish(compact, false);
  }

  if (digits.startsWith('90')) {
    let nsn = digits.slice(2);
    if (nsn.charCodeAt(0) === 0x30) nsn = nsn.slice(1); // +90 0… : trunk 0 kept by mistake
    if (nsn.length === 0) return fail('TOO_SHORT');
    if (nsn.charCodeAt(0) === 0x30) return fail('NOT_A_PHONE', 'not in the Turkish numbering plan');
    return classifyTurkish(nsn, false);
  }
  return classifyForeign(digits);
}

// ------------------------------------------------------------------------------------------------
// E-mail
// ------------------------------------------------------------------------------------------------

/** İYS length bounds of an e-mail address, inclusive (reference §4.2 rule 5, H120). */
const EMAIL_MIN_LENGTH = 6;
const EMAIL_MAX_LENGTH = 265;
/**
 * Fast path: lower-case ASCII local part of characters İYS accepts, a plain LDH domain with no
 * punycode (`xn--`) label (those need IDNA validation) and a letter TLD. For such input IDNA is the identity, so the input
 * is already canonical.
 */
const CANONICAL_EMAIL = /^[a-z0-9._+\-]+@(?:(?!xn--)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$/;
/** Characters İYS refuses in an address (reference §4.2 rule 3) plus the quote and backslash. */
const IYS_FORBIDDEN = /[{}[\]()!'^%&/=?,"\u201d\u00bd\u00b2\u00b3\u00b0\u00b6\\<>;:`|~$*#]/;
/** Whitespace and control characters: never part of an address. */
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\ufeff]/;
/** An ASCII DNS name after IDNA: labels of letters, digits, hyphens; TLD of ≥ 2 characters. */
const ASCII_DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** Lower-cases A–Z only; other characters stay as they are (no locale, no Unicode case mapping). */
function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

function emailOk(canonical: string, registrable: boolean): NormalizedRecipient {
  return { ok: true, kind: 'email', canonical, smsCapable: false, registrable, noncanonical: false };
}

/**
 * Normalizes an e-mail address to İYS's stored form (reference §4.2 rule 9, DOMAIN.md §3):
 * trim; local part: A–Z → a–z only (never a locale mapping, field case C18), `+tags` and dots
 * kept; domain: trailing dot dropped, IDNA to ASCII with `node:url` `domainToASCII` (UTS #46,
 * lower-cases too; `user@ÖRNEK.com.tr` → `user@xn--rnek-4qa.com.tr`, field case C19).
 *
 * Syntax check is deliberately permissive (C19): no whitespace, exactly one `@`, non-empty local
 * part, a domain with a dot and a TLD of ≥ 2 characters (minimum shape, e.g. `a@bc.de`), total
 * length 6–265 (H120). Failing it → `INVALID_EMAIL`.
 *
 * An address that is syntactically an address but that İYS refuses (H120) is `ok: true,
 * registrable: false`: non-ASCII letters in the local part (Turkish ç ğ ı İ ö ş ü and others —
 * never transliterated, C14) or a character of İYS's forbidden list (`{ [ ( ! ' ^ % & / ) = ? , ”`
 * …). Such an address cannot carry consent but may still receive informational mail.
 *
 * Never throws.
 */
export function normalizeEmail(input: string): NormalizedRecipient {
  if (input.length >= EMAIL_MIN_LENGTH && input.length <= EMAIL_MAX_LENGTH && CANONICAL_EMAIL.test(input)) {
    return emailOk(input, true);
  }
  return slowEmail(input);
}

function slowEmail(input: string): NormalizedRecipient {
  const trimmed = input.trim();
  if (trimmed.length === 0) return fail('EMPTY');
  if (trimmed.length > EMAIL_MAX_LENGTH * 4) return fail('INVALID_EMAIL', 'longer than 265 characters');
  if (SPACE_OR_CONTROL.test(trimmed)) return fail('INVALID_EMAIL', 'contains whitespace or control characters');
  const at = trimmed.indexOf('@');
  if (at < 0) return fail('INVALID_EMAIL', 'no @');
  if (trimmed.indexOf('@', at + 1) >= 0) return fail('INVALID_EMAIL', 'more than one @');
  const rawLocal = trimmed.slice(0, at);
  let rawDomain = trimmed.slice(at + 1);
  if (rawLocal.length === 0) return fail('INVALID_EMAIL', 'empty local part');
  if (rawDomain.endsWith('.')) rawDomain = rawDomain.slice(0, -1);
  if (rawDomain.length === 0) return fail('INVALID_EMAIL', 'empty domain');

  const domain = domainToASCII(rawDomain);
  if (domain === '' || !ASCII_DOMAIN.test(domain)) return fail('INVALID_EMAIL', 'domain is not a host name with a dot');

  const local = asciiLower(rawLocal.normalize('NFC'));
  const canonical = local + '@' + domain;
  if (canonical.length < EMAIL_MIN_LENGTH) return fail('INVALID_EMAIL', 'shorter than 6 characters');
  if (canonical.length > EMAIL_MAX_LENGTH) return fail('INVALID_EMAIL', 'longer than 265 characters');

  const asciiLocal = /^[\x21-\x7e]+$/.test(local);
  const registrable = asciiLocal && !IYS_FORBIDDEN.test(local);
  return emailOk(canonical, registrable);
}

// ------------------------------------------------------------------------------------------------
// Dispatch
// ------------------------------------------------------------------------------------------------

/**
 * Normalizes user input to the canonical key. `type` decides the kind when given (`EPOSTA` →
 * e-mail; `MESAJ`/`ARAMA` → phone, so an e-mail under MESAJ is an error like İYS H464); without
 * it, input containing `@` is an e-mail, anything else a phone. Never throws.
 */
export function normalizeRecipient(input: string, type?: ConsentType): NormalizedRecipient {
  if (type === 'EPOSTA') return normalizeEmail(input);
  if (type === 'MESAJ' || type === 'ARAMA') return normalizePhone(input);
  return input.includes('@') ? normalizeEmail(input) : normalizePhone(input);
}

/**
 * Normalizes a recipient string exactly as İYS holds it (mirror import, pull/push sync, daily
 * file). The result's `canonical` is the lookup key; callers keep `raw` alongside it.
 *
 * Phones: İYS stores what providers registered, including numbers sent as `+9005…` (trunk 0 kept).
 * Such a record is invisible to operators and intermediary providers, who look up `+905…`
 * (field case C01). It is normalized to the canonical key (`+9005550000001` → `+905550000001`)
 * with `noncanonical: true`; any other raw string that differs from its canonical E.164 form
 * (missing `+`, separators) is flagged the same way. The decision engine must not treat a
 * noncanonical ONAY as consent, while a noncanonical RET still blocks (DOMAIN.md §3).
 * E-mail: same as {@link normalizeEmail} (İYS already stores lower-case).
 *
 * Never throws.
 */
export function normalizeIysRecipient(raw: string, type: ConsentType): NormalizedRecipient {
  if (type === 'EPOSTA') return normalizeEmail(raw);
  if (CANONICAL_TR_MOBILE.test(raw)) return phone(raw, true);
  const r = slowPhone(raw);
  if (!r.ok || r.kind !== 'phone') return r;
  return r.canonical === raw ? r : phone(r.canonical, r.smsCapable, true);
}
