/**
 * İYS's validation and state rules for consent writes, as plain functions with no I/O.
 * The simulator answers with them and the client runs the very same checks before a call
 * (pre-validation), so an invalid record never reaches İYS (70 % success-rate rule,
 * iys-reference.md §2.11).
 *
 * Sources: iys-reference.md §4 (validation, H-codes), §4.4 (state machine), DOMAIN.md §4 and §6,
 * İYS OpenAPI 3.2.0 operation `addConsent` examples.
 */
import { checkIysDate, formatIysDate } from '../domain/turkish-time.ts';
import { isValidPhoneNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { CONSENT_STATUSES, CONSENT_TYPES, HS_SOURCES, RECIPIENT_TYPES } from '../domain/types.ts';
import type { ConsentStatus, ConsentType, RecipientType } from '../domain/types.ts';
import { gatewayError } from '../errors.ts';
import { hError, type HCode, type IysErrorItem } from './h-codes.ts';

/** Keys allowed in a consent body (anything else is H118). */
export const CONSENT_KEYS = [
  'recipientType', 'retailerAccess', 'recipient', 'retailerCode', 'source', 'type', 'consentDate', 'status',
] as const;

/** Earliest consentDate İYS accepts (H156) and the only one allowed with HS_2015 (H155). */
export const IYS_EPOCH = '2015-05-01 00:00:00';
/** Most consents one batch may hold (H091). */
export const BATCH_MAX_ITEMS = 1000;
/** Most dealer codes one consent's retailerAccess may hold (schema maxItems, H126). */
export const RETAILER_ACCESS_MAX = 3000;
/** Phones longer than this many characters are rejected (H160 on writes, H166 on queries). */
export const PHONE_MAX_CHARS = 15;

const EMAIL_RE = /^[A-Za-z0-9._%+-]+@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)\.([A-Za-z]{2,})$/;

/** A consent body as İYS receives it (schema `Consent`). */
export interface ConsentInput {
  recipient: string;
  type: ConsentType;
  source?: string;
  status: ConsentStatus;
  consentDate?: string;
  recipientType?: RecipientType;
  retailerCode?: number;
  retailerAccess?: number[];
}

/** The stored state of one key, as far as the transition rules need it. */
export interface CurrentConsent {
  status: ConsentStatus;
  consentDate: string | null;
  source: string | null;
}

/** Options of {@link validateConsent}. */
export interface ConsentCheckOptions {
  /** "Now" for H162/H467. */
  now: Date;
  /**
   * H467 predicate: true when `consentDate` is still inside the upload window at `now`
   * (3 Turkish business days, src/domain/calendar.ts `isWithinUploadWindow`). Omit to skip H467.
   */
  withinUploadWindow?: (consentDate: Date, now: Date) => boolean;
  /** Sources exempt from H467 (İYS does not document it; default `['HS_2015']`). */
  h467ExemptSources?: readonly string[];
  /** Index in a batch list; added to every error as `index`. */
  index?: number;
}

/**
 * Parses `YYYY-MM-DD HH:mm:ss` Turkish time into a Date (domain/turkish-time.ts `checkIysDate`).
 * @returns the instant, or `'format'` (H158) / `'invalid'` (H157: no such calendar date/time)
 */
export function parseIysDateStrict(s: string): Date | 'format' | 'invalid' {
  return checkIysDate(s);
}

/** Formats an instant as İYS's `YYYY-MM-DD HH:mm:ss` in Turkish time (domain/turkish-time.ts). */
export function toIysDate(d: Date): string {
  return formatIysDate(d);
}

/**
 * Validates a phone recipient the way İYS does (reference §4.1): E.164 with `+`, at most 15
 * characters, valid for libphonenumber, and already canonical (so `+9005…` is refused, C01).
 * @param context `write` reports over-long numbers as H160 + H121; `query` as H166 only.
 * @returns the error codes (empty when valid)
 */
export function phoneErrors(recipient: string, context: 'write' | 'query' = 'write'): HCode[] {
  if (recipient.length > PHONE_MAX_CHARS) return context === 'write' ? ['H160', 'H121'] : ['H166'];
  if (!/^\+[1-9]\d{6,14}$/.test(recipient)) return ['H121'];
  // Turkish mobiles (+905 and 9 digits): libphonenumber's TR mobile patterns decide validity within
  // the first six national digits (`5(?:61(?:011|61\d)|82[2-5]\d\d)\d{4}|5(?:[03-5]\d|1[06]|…)\d{7}`),
  // so the answer is memoized per prefix: a 100,000-row upload parses ~100 numbers, not 100,000.
  if (recipient.length === 13 && recipient.startsWith('+905')) {
    const k = recipient.slice(0, 9);
    let ok = TR_MOBILE_PREFIX_OK.get(k);
    if (ok === undefined) { ok = libphonenumberAccepts(recipient); TR_MOBILE_PREFIX_OK.set(k, ok); }
    return ok ? [] : ['H121'];
  }
  return libphonenumberAccepts(recipient) ? [] : ['H121'];
}

const TR_MOBILE_PREFIX_OK = new Map<string, boolean>();

function libphonenumberAccepts(recipient: string): boolean {
  const parsed = parsePhoneNumberFromString(recipient);
  return !!parsed && parsed.number === recipient && isValidPhoneNumber(recipient);
}

/**
 * True when `recipient` is an e-mail address İYS accepts (reference §4.2): ASCII only (no
 * Turkish letters), no spaces or special characters, a top-level domain of 2+ letters, 6–265
 * characters. (The tag text's minimum shape `x@xx.xx` is not applied to the host: İYS's own
 * release notes accept `_ali@x.com`, reference §6.2 E9.)
 */
export function isIysEmail(recipient: string): boolean {
  if (recipient.length < 6 || recipient.length > 265) return false;
  return EMAIL_RE.test(recipient);
}

/**
 * The form İYS stores a recipient in: e-mail lower-cased (ASCII only, no locale), phones as sent.
 */
export function storedRecipient(recipient: string, type: ConsentType): string {
  return type === 'EPOSTA' ? recipient.toLowerCase() : recipient;
}

/**
 * Recipient errors for a channel: H120 for a bad e-mail under EPOSTA, phone errors under
 * MESAJ/ARAMA.
 */
export function recipientErrors(recipient: string, type: ConsentType, context: 'write' | 'query' = 'write'): HCode[] {
  if (type === 'EPOSTA') return isIysEmail(recipient) ? [] : ['H120'];
  return phoneErrors(recipient, context);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates one consent body against İYS's field rules, in İYS's order (unknown keys, missing
 * fields, enums, recipient, dates, H408, dealer lists, H467). State rules are separate
 * ({@link transitionError}).
 *
 * @returns İYS error items (empty when valid). The HTTP status is that of the first item
 *   (`hStatus`): 400 for H267, 422 for the rest.
 */
export function validateConsent(body: unknown, opts: ConsentCheckOptions): IysErrorItem[] {
  const errs: IysErrorItem[] = [];
  const ix = opts.index === undefined ? {} : { index: opts.index };
  const add = (code: HCode, field?: string | (string | number)[], value?: unknown): void => {
    const location = field === undefined ? undefined : Array.isArray(field) ? field : [field];
    errs.push(hError(code, { ...(location ? { location } : {}), ...(value !== undefined ? { value } : {}), ...ix }));
  };
  if (!isObj(body)) {
    add('H085');
    return errs;
  }
  for (const k of Object.keys(body)) {
    if (!(CONSENT_KEYS as readonly string[]).includes(k)) add('H118', k, body[k]);
  }
  if ('retailerCode' in body && body.retailerCode === '') {
    add('H267');
    return errs;
  }
  const recipientType = body.recipientType === undefined ? 'BIREYSEL' : body.recipientType;
  const tacir = recipientType === 'TACIR';
  if (body.recipient === undefined || body.recipient === null || body.recipient === '') add('H114', 'recipient');
  if (body.type === undefined || body.type === null || body.type === '') add('H111', 'type');
  if (body.status === undefined || body.status === null || body.status === '') add('H110', 'status');
  if ((body.source === undefined || body.source === null || body.source === '') && !tacir) add('H113', 'source');
  if ((body.consentDate === undefined || body.consentDate === null || body.consentDate === '') && !tacir) add('H112', 'consentDate');

  const typeOk = typeof body.type === 'string' && (CONSENT_TYPES as readonly string[]).includes(body.type);
  if (body.type !== undefined && body.type !== null && body.type !== '' && !typeOk) add('H117', 'type', body.type);
  if (body.status !== undefined && body.status !== null && body.status !== ''
    && !(typeof body.status === 'string' && (CONSENT_STATUSES as readonly string[]).includes(body.status))) {
    add('H115', 'status', body.status);
  }
  if (!(typeof recipientType === 'string' && (RECIPIENT_TYPES as readonly string[]).includes(recipientType))) {
    add('H116', 'recipientType', body.recipientType);
  }
  const sourceGiven = body.source !== undefined && body.source !== null && body.source !== '';
  const sourceOk = typeof body.source === 'string' && (HS_SOURCES as readonly string[]).includes(body.source);
  if (sourceGiven && !sourceOk) add('H119', 'source', body.source);

  if (typeof body.recipient === 'string' && body.recipient !== '') {
    if (typeOk) {
      for (const c of recipientErrors(body.recipient, body.type as ConsentType, 'write')) add(c, 'recipient', body.recipient);
    }
  } else if (body.recipient !== undefined && body.recipient !== null && body.recipient !== '') {
    add('H122', 'recipient', body.recipient);
  }

  let consentAt: Date | null = null;
  if (body.consentDate !== undefined && body.consentDate !== null && body.consentDate !== '') {
    const cd = body.consentDate;
    const parsed = typeof cd === 'string' ? parseIysDateStrict(cd) : 'format';
    if (parsed === 'format') add('H158', 'consentDate', cd);
    else if (parsed === 'invalid') add('H157', 'consentDate', cd);
    else if (parsed.getTime() > opts.now.getTime()) add('H162', 'consentDate', cd);
    else if (body.source === 'HS_2015') {
      if (cd !== IYS_EPOCH) add('H155', 'consentDate', cd);
      else consentAt = parsed;
    } else if ((cd as string) < IYS_EPOCH) add('H156', 'consentDate', cd);
    else consentAt = parsed;
  }
  if (body.source === 'HS_KARAR' && body.status === 'ONAY') add('H408', 'status', body.status);

  if ('retailerAccess' in body) {
    const ra = body.retailerAccess;
    if (!Array.isArray(ra) || ra.some((x) => !Number.isInteger(x))) add('H085', 'retailerAccess', ra);
    else if (ra.length === 0) add('H163', 'retailerAccess', ra);
    else if (ra.length > RETAILER_ACCESS_MAX) add('H126', 'retailerAccess', ra);
  }
  if ('retailerCode' in body && !Number.isInteger(body.retailerCode)) add('H085', 'retailerCode', body.retailerCode);

  if (errs.length === 0 && consentAt && opts.withinUploadWindow) {
    const exempt = opts.h467ExemptSources ?? ['HS_2015'];
    if (!(typeof body.source === 'string' && exempt.includes(body.source))) {
      if (!withinWindowSafe(opts.withinUploadWindow, consentAt, opts.now)) add('H467', 'consentDate', body.consentDate);
    }
  }
  return errs;
}

/**
 * Calls the calendar predicate; dates far in the past are outside without asking it. When the
 * calendar has no table for the year (GW_ERR_CALENDAR_OUT_OF_RANGE) the local H467 check is not
 * made (İYS decides); any other error propagates.
 */
function withinWindowSafe(pred: (c: Date, n: Date) => boolean, consentAt: Date, now: Date): boolean {
  // Three business days never span more than 20 calendar days, so older dates are out (and
  // may lie before the calendar's covered years, for which it throws).
  if (now.getTime() - consentAt.getTime() > 20 * 86_400_000) return false;
  try {
    return pred(consentAt, now);
  } catch (e) {
    if ((e as { code?: string }).code === 'GW_ERR_CALENDAR_OUT_OF_RANGE') return true;
    throw e;
  }
}

/**
 * İYS's state rules for a write over the current record of the same key (reference §4.4).
 * @param current the stored record, or undefined when the key has none
 * @returns the error item, or null when the write is allowed
 *   - H175: the first record of a key cannot be RET;
 *   - H463 / H462: a TACIR update needs `source` / `consentDate`;
 *   - H178: consentDate older than the stored one (equal is allowed);
 *   - H174: RET over RET (ONAY over ONAY is a re-save, allowed since İYS 1.1.0).
 */
export function transitionError(current: CurrentConsent | undefined, next: ConsentInput): IysErrorItem | null {
  if (!current) return next.status === 'RET' ? hError('H175') : null;
  if ((next.recipientType ?? 'BIREYSEL') === 'TACIR') {
    if (!next.source) return hError('H463');
    if (!next.consentDate) return hError('H462');
  }
  if (next.consentDate && current.consentDate && next.consentDate < current.consentDate) return hError('H178');
  if (next.status === 'RET' && current.status === 'RET') {
    return { code: 'H174', message: `İzin durumu (status) güncellemesi için farklı bir durum girilmelidir. İzin durumu: ${current.status}` };
  }
  return null;
}

/** Legacy spellings of a status seen in the field (C10), mapped in this one place. */
const STATUS_ALIASES: Readonly<Record<string, ConsentStatus>> = {
  ONAY: 'ONAY', ON: 'ONAY', APPROVE: 'ONAY', APPROVED: 'ONAY',
  RET: 'RET', RED: 'RET', REJECT: 'RET', REJECTED: 'RET',
};

/**
 * Maps a status as some caller spelled it (`RED`, `ret`, `onay`, …) to İYS's `ONAY` | `RET`
 * (field case C10). Case-folded without locale (never `toLocaleUpperCase('tr')`).
 * @throws GW_ERR_VALIDATION (400, field `status`) for anything else
 */
export function coerceConsentStatus(value: unknown, field = 'status'): ConsentStatus {
  if (typeof value === 'string') {
    const hit = STATUS_ALIASES[value.trim().toUpperCase()];
    if (hit) return hit;
  }
  throw gatewayError('GW_ERR_VALIDATION', [`${field} must be ONAY or RET, got ${JSON.stringify(value)}`], { field });
}

/** The key of a consent inside one brand: `recipientType|type|storedRecipient`. */
export function consentKeyOf(c: { recipient: string; type: ConsentType; recipientType?: RecipientType }): string {
  return `${c.recipientType ?? 'BIREYSEL'}|${c.type}|${storedRecipient(c.recipient, c.type)}`;
}

/**
 * Prepares a batch the way İYS wants it (field case C11): one item per
 * (recipientType, type, recipient) — the newest by consentDate, RET winning a tie — because İYS
 * refuses repeats with H194.
 * @returns the kept items in original order and the indexes of the dropped ones
 */
export function collapseBatch<T extends ConsentInput>(items: readonly T[]): { items: T[]; dropped: number[] } {
  const best = new Map<string, number>();
  items.forEach((it, i) => {
    const k = consentKeyOf(it);
    const j = best.get(k);
    if (j === undefined) { best.set(k, i); return; }
    const prev = items[j]!;
    const a = it.consentDate ?? '';
    const b = prev.consentDate ?? '';
    if (a > b || (a === b && it.status === 'RET' && prev.status !== 'RET') || (a === b && it.status === prev.status)) best.set(k, i);
  });
  const keep = new Set(best.values());
  const out: T[] = [];
  const dropped: number[] = [];
  items.forEach((it, i) => (keep.has(i) ? out.push(it) : dropped.push(i)));
  return { items: out, dropped };
}
