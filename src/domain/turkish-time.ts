/**
 * Turkish time (Europe/Istanbul) for İYS dates (DOMAIN.md §4; iys-reference.md §4.3).
 *
 * Turkey has been on UTC+03:00 all year since 2016-09-07 (no DST). For instants from then on the
 * wall clock is computed by fixed +3 h arithmetic on UTC fields: fast, allocation-light and
 * independent of the server's `TZ`. {@link assertIstanbulOffset} (run at startup) proves that the
 * runtime's tz database agrees (field case C25). Instants before the cut-over (İYS accepts
 * consentDates from 2015-05-01, H156) are rare and are converted with a cached
 * `Intl.DateTimeFormat` for `Europe/Istanbul`, which knows the historical offsets (+02/+03); this
 * module has no DST rules of its own.
 */
import { gatewayError } from '../errors.ts';

const HOUR_MS = 3_600_000;
/** Fixed offset of Turkish time since 2016-09-07 (Official Gazette 2016/9163 decree). */
const OFFSET_MS = 3 * HOUR_MS;
/** First instant of permanent +03:00: 2016-09-07 00:00 local = 2016-09-06T21:00:00Z. */
const FIXED_OFFSET_FROM_MS = Date.UTC(2016, 8, 6, 21, 0, 0);
/** Wall-clock (local fields read as UTC) ms at which +03:00 is certain for local → instant. */
const FIXED_OFFSET_FROM_LOCAL_MS = FIXED_OFFSET_FROM_MS + OFFSET_MS;


let historicFormatter: Intl.DateTimeFormat | undefined;
function historic(): Intl.DateTimeFormat {
  historicFormatter ??= new Intl.DateTimeFormat('en-US', {
    timeZone: 'Europe/Istanbul', hourCycle: 'h23',
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  return historicFormatter;
}

/** Offset of Europe/Istanbul at instant `ms` in milliseconds (+10_800_000 since 2016-09-07). */
function offsetAt(ms: number): number {
  if (ms >= FIXED_OFFSET_FROM_MS) return OFFSET_MS;
  const parts = historic().formatToParts(new Date(ms));
  const f = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(f('year'), f('month') - 1, f('day'), f('hour'), f('minute'), f('second'));
  return wall - (ms - (ms % 1000 + 1000) % 1000);
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function pad4(n: number): string {
  return n >= 1000 ? String(n) : String(n).padStart(4, '0');
}

/** Local wall-clock fields of `d` in Istanbul, as a Date whose UTC fields are the local ones. */
function wallClock(d: Date): Date {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw gatewayError('GW_ERR_VALIDATION', ['invalid Date (NaN)']);
  return new Date(ms + offsetAt(ms));
}

function datePart(w: Date): string {
  return `${pad4(w.getUTCFullYear())}-${pad2(w.getUTCMonth() + 1)}-${pad2(w.getUTCDate())}`;
}

function timePart(w: Date): string {
  return `${pad2(w.getUTCHours())}:${pad2(w.getUTCMinutes())}:${pad2(w.getUTCSeconds())}`;
}

/**
 * Formats an instant as İYS's `consentDate`/`creationDate`: `YYYY-MM-DD HH:mm:ss` in Turkish
 * time, whatever the server's `TZ` (field case C02: `2024-12-31T22:30:00Z` → `2025-01-01
 * 01:30:00`). Milliseconds are truncated (İYS has second resolution).
 * @throws GW_ERR_VALIDATION for an invalid Date.
 */
export function formatIysDate(d: Date): string {
  const w = wallClock(d);
  return `${datePart(w)} ${timePart(w)}`;
}

/**
 * The Istanbul calendar date of an instant, `YYYY-MM-DD` (e.g. `2026-03-12T22:30:00Z` →
 * `2026-03-13`). Used for business-day deadlines (DOMAIN.md §4).
 * @throws GW_ERR_VALIDATION for an invalid Date.
 */
export function istanbulDate(d: Date): string {
  return datePart(wallClock(d));
}

/**
 * ISO 8601 with the Istanbul offset, e.g. `2026-11-29T14:00:00+03:00` (second resolution).
 * Before 2016-09-07 the historical offset is printed (`+02:00` in winter).
 * @throws GW_ERR_VALIDATION for an invalid Date.
 */
export function toIstanbulIso(d: Date): string {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw gatewayError('GW_ERR_VALIDATION', ['invalid Date (NaN)']);
  const off = offsetAt(ms);
  const w = new Date(ms + off);
  const offMin = Math.round(off / 60_000);
  const sign = offMin < 0 ? '-' : '+';
  const abs = Math.abs(offMin);
  return `${datePart(w)}T${timePart(w)}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** Parses the fields; returns the wall-clock ms (fields read as UTC) or a reason string. */
function parseWall(s: string): number | string {
  // Hand-rolled (no regex, no allocation): this runs for every imported row and every feed item.
  if (s.length !== 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32
    || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return 'not in the form YYYY-MM-DD HH:mm:ss (İYS H158)';
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if ((year | month | day | hour | minute | second) < 0) return 'not in the form YYYY-MM-DD HH:mm:ss (İYS H158)';
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return 'not a real date (İYS H157)';
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > (month === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[month - 1]!)) return 'not a real date (İYS H157)';
  let wall = Date.UTC(year, month - 1, day, hour, minute, second);
  if (year < 100) wall = new Date(wall).setUTCFullYear(year); // Date.UTC maps 0–99 to 1900–1999
  return wall;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** The decimal value of `len` ASCII digits of `s` from `at`, or -1 when one is not a digit. */
function digits(s: string, at: number, len: number): number {
  let v = 0;
  for (let i = at; i < at + len; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * {@link parseIysDate} without throwing, telling İYS's two refusals apart: `'format'` (not
 * `YYYY-MM-DD HH:mm:ss`, H158) or `'invalid'` (no such date or time, H157).
 */
export function checkIysDate(s: string): Date | 'format' | 'invalid' {
  const wall = typeof s === 'string' ? parseWall(s) : 'H158';
  if (typeof wall === 'string') return wall.includes('H158') ? 'format' : 'invalid';
  return parseIysDate(s);
}

/**
 * Parses an İYS date `YYYY-MM-DD HH:mm:ss` given in Turkish time into an instant
 * (`2025-06-05 10:00:00` → `2025-06-05T07:00:00Z`; field case C03: never read it as UTC).
 * Checks shape (H158) and calendar validity (H157: month 1–12, day within the month incl. leap
 * years, 00:00:00–23:59:59). Range rules (H156 not before 2015-05-01, H162 not in the future)
 * belong to the caller. For the rare local times of the pre-2016 DST era that were skipped or
 * repeated, the offset in force just before the transition wins.
 * @param field path reported on the error (default `consentDate`)
 * @throws GW_ERR_VALIDATION (400) with `field` on a bad shape or impossible date.
 */
export function parseIysDate(s: string, field = 'consentDate'): Date {
  const wall = typeof s === 'string' ? parseWall(s) : 'not a string';
  if (typeof wall === 'string') throw gatewayError('GW_ERR_VALIDATION', [`${field} ${wall}`], { field });
  if (wall >= FIXED_OFFSET_FROM_LOCAL_MS) return new Date(wall - OFFSET_MS);
  let ms = wall - offsetAt(wall - OFFSET_MS);
  const off = offsetAt(ms);
  if (wall - off !== ms) ms = wall - off;
  return new Date(ms);
}

/** True when `s` is a well-formed, real İYS date (see {@link parseIysDate}); never throws. */
export function isIysDate(s: string): boolean {
  return typeof s === 'string' && typeof parseWall(s) === 'number';
}

/** Known instants and the Istanbul wall clock they must show (C25: no +02, no DST). */
const SELF_CHECK_PROBES: readonly (readonly [string, string])[] = [
  ['2025-01-15T12:00:00Z', '2025-01-15 15:00:00'], // winter: +03, not +02
  ['2025-07-15T12:00:00Z', '2025-07-15 15:00:00'], // summer
  ['2016-10-30T02:00:00Z', '2016-10-30 05:00:00'], // where old tzdata still ended DST (→ 04:00)
  ['2024-12-31T21:30:00Z', '2025-01-01 00:30:00'], // year boundary (C02)
  ['2030-03-31T01:00:00Z', '2030-03-31 04:00:00'], // a former EU DST switch date
];

/** Istanbul wall clock of an instant according to the runtime's Intl tz database. */
function intlWallClock(d: Date): string {
  const parts = historic().formatToParts(d);
  const f = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '??';
  return `${f('year')}-${f('month')}-${f('day')} ${f('hour')}:${f('minute')}:${f('second')}`;
}

/**
 * Startup self-check (field case C25): the runtime's Intl tz database must show Europe/Istanbul at
 * +03:00 for known instants in winter, summer and around former DST switch dates; otherwise
 * (old tzdata, small-icu build without the zone) the fixed-offset arithmetic above would disagree
 * with other components and the process must not start.
 * @param probe how the runtime renders an instant in Istanbul as `YYYY-MM-DD HH:mm:ss`; defaults
 *   to the runtime's `Intl.DateTimeFormat` (tests inject a faulty one).
 * @throws GW_ERR_TIMEZONE_SELF_CHECK (500) naming the first instant that disagrees, with the Intl
 *   error as `cause` when the zone is unknown.
 */
export function assertIstanbulOffset(probe: (d: Date) => string = intlWallClock): void {
  for (const [iso, expected] of SELF_CHECK_PROBES) {
    let got: string;
    try {
      got = probe(new Date(iso));
    } catch (cause) {
      throw gatewayError('GW_ERR_TIMEZONE_SELF_CHECK', ['Europe/Istanbul is unknown to this runtime'], { cause });
    }
    if (got !== expected) {
      throw gatewayError('GW_ERR_TIMEZONE_SELF_CHECK', [`${iso} shows ${got}, expected ${expected} (+03:00)`]);
    }
    if (formatIysDate(new Date(iso)) !== expected) {
      throw gatewayError('GW_ERR_TIMEZONE_SELF_CHECK', [`fixed-offset formatting of ${iso} disagrees`]);
    }
  }
}
