/**
 * Turkish business-day calendar for the 3-business-day duties of law 6563's regulation and İYS
 * H467 (DOMAIN.md §1.4, §4; iys-reference.md §5.4, §5.7).
 *
 * Dates are Istanbul calendar dates `YYYY-MM-DD`; instants are turned into them with
 * {@link istanbulDate}, so results do not depend on the server's `TZ`. Date arithmetic is done on
 * day numbers (days since 1970-01-01), never on local Date fields.
 *
 * Business day: Monday–Friday except official holidays (Law 2429): 1 Jan, 23 Apr, 1 May, 19 May,
 * 15 Jul, 30 Aug, 29 Oct, Ramazan Bayramı (3 days), Kurban Bayramı (4 days). Half days (holiday
 * from 13:00): the arife of each bayram and 28 Oct; {@link HalfDayPolicy} decides, default
 * `business` (the shorter, safer deadline; reference §5.7 recommendation). 31 Dec is a working
 * day. Government bridge days (idari izin) are not official holidays and stay business days.
 * Bayram dates come from {@link BAYRAM_TABLE}; a date outside {@link COVERED_YEARS} throws
 * `GW_ERR_CALENDAR_OUT_OF_RANGE`, it is never guessed.
 */
import { gatewayError } from '../errors.ts';
import { istanbulDate } from './turkish-time.ts';

/** How a half day (bayram arife, 28 October; holiday from 13:00) counts. */
export type HalfDayPolicy = 'business' | 'holiday';

export interface CalendarOptions {
  /** @default 'business' — a weekday half day counts as a business day. */
  halfDayPolicy?: HalfDayPolicy;
}

/**
 * First day of Ramazan Bayramı (3 days) and of Kurban Bayramı (4 days) per year; the arife is the
 * day before. Source: iys-reference.md §5.7 (Diyanet calendar; 2024–2026 confirmed by
 * Diyanet-based press, 2027–2030 computed identically by `date-holidays` TR and Umm al-Qura
 * `hijri-converter`). Extend by adding a year here once Diyanet publishes it, and widen
 * COVERED_YEARS accordingly.
 */
const BAYRAM_TABLE: Readonly<Record<number, { ramazan: string; kurban: string }>> = {
  2024: { ramazan: '2024-04-10', kurban: '2024-06-16' },
  2025: { ramazan: '2025-03-30', kurban: '2025-06-06' },
  2026: { ramazan: '2026-03-20', kurban: '2026-05-27' },
  2027: { ramazan: '2027-03-09', kurban: '2027-05-16' },
  2028: { ramazan: '2028-02-26', kurban: '2028-05-05' },
  2029: { ramazan: '2029-02-14', kurban: '2029-04-24' },
  2030: { ramazan: '2030-02-04', kurban: '2030-04-13' },
};

/** Years (inclusive) for which the holiday table is known. */
export const COVERED_YEARS: { readonly from: number; readonly to: number } = Object.freeze({ from: 2024, to: 2030 });
const COVERED_TEXT = `${COVERED_YEARS.from}–${COVERED_YEARS.to}`;

/** Fixed-date official holidays (Law 2429 art. 1–2, as amended). */
const FIXED_HOLIDAYS: readonly { md: string; name: string; half: boolean }[] = [
  { md: '01-01', name: 'Yılbaşı', half: false },
  { md: '04-23', name: 'Ulusal Egemenlik ve Çocuk Bayramı', half: false },
  { md: '05-01', name: 'Emek ve Dayanışma Günü', half: false },
  { md: '05-19', name: "Atatürk'ü Anma, Gençlik ve Spor Bayramı", half: false },
  { md: '07-15', name: 'Demokrasi ve Millî Birlik Günü', half: false },
  { md: '08-30', name: 'Zafer Bayramı', half: false },
  { md: '10-28', name: 'Cumhuriyet Bayramı arifesi', half: true },
  { md: '10-29', name: 'Cumhuriyet Bayramı', half: false },
];

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** 'YYYY-MM-DD' → days since 1970-01-01, or undefined if not a real date. */
function toDay(date: string): number | undefined {
  const m = DATE_RE.exec(date);
  if (m === null) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return undefined;
  const ms = Date.UTC(y, mo - 1, d);
  if (new Date(ms).getUTCDate() !== d) return undefined;
  return ms / DAY_MS;
}

function fromDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function yearOfDay(day: number): number {
  return new Date(day * DAY_MS).getUTCFullYear();
}

/** 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

interface Holiday { date: string; name: string; half: boolean }

/** Holidays per covered year, merged per date (a full holiday wins over a half day), sorted. */
const HOLIDAYS_BY_YEAR = new Map<number, readonly Readonly<Holiday>[]>();
/** Day number → true for a full holiday, false for a half day. */
const HOLIDAY_DAYS = new Map<number, boolean>();

function buildYear(year: number): readonly Readonly<Holiday>[] {
  const bayram = BAYRAM_TABLE[year];
  if (bayram === undefined) throw new Error(`BAYRAM_TABLE lacks ${year}`); // programming error: table vs COVERED_YEARS
  const entries: Holiday[] = FIXED_HOLIDAYS.map((h) => ({ date: `${year}-${h.md}`, name: h.name, half: h.half }));
  const movable = (first: string, days: number, name: string) => {
    const start = toDay(first)!;
    entries.push({ date: fromDay(start - 1), name: `${name} arifesi`, half: true });
    for (let i = 0; i < days; i++) entries.push({ date: fromDay(start + i), name: `${name} ${i + 1}. gün`, half: false });
  };
  movable(bayram.ramazan, 3, 'Ramazan Bayramı');
  movable(bayram.kurban, 4, 'Kurban Bayramı');

  const byDate = new Map<string, Holiday>();
  for (const e of entries) {
    const prev = byDate.get(e.date);
    if (prev === undefined) byDate.set(e.date, { ...e });
    else byDate.set(e.date, { date: e.date, name: `${prev.name} / ${e.name}`, half: prev.half && e.half });
  }
  return [...byDate.values()].sort((a, b) => (a.date < b.date ? -1 : 1)).map((h) => Object.freeze(h));
}

for (let y = COVERED_YEARS.from; y <= COVERED_YEARS.to; y++) {
  const list = buildYear(y);
  HOLIDAYS_BY_YEAR.set(y, Object.freeze(list));
  for (const h of list) {
    const day = toDay(h.date)!;
    // An arife in one year never overlaps a holiday of another in the table; merge defensively.
    HOLIDAY_DAYS.set(day, (HOLIDAY_DAYS.get(day) ?? false) || !h.half);
  }
}

function outOfRange(year: number): Error {
  return gatewayError('GW_ERR_CALENDAR_OUT_OF_RANGE', [year, COVERED_TEXT]);
}

function parseDate(date: string, field: string): number {
  const day = typeof date === 'string' ? toDay(date) : undefined;
  if (day === undefined) throw gatewayError('GW_ERR_VALIDATION', [`${field} is not a real date YYYY-MM-DD`], { field });
  return day;
}

function businessDay(day: number, halfIsHoliday: boolean): boolean {
  const year = yearOfDay(day);
  if (year < COVERED_YEARS.from || year > COVERED_YEARS.to) throw outOfRange(year);
  const wd = weekday(day);
  if (wd === 0 || wd === 6) return false;
  const full = HOLIDAY_DAYS.get(day);
  if (full === undefined) return true;
  return full ? false : !halfIsHoliday;
}

/**
 * Whether an Istanbul calendar date is a business day.
 * @param date `YYYY-MM-DD`
 * @throws GW_ERR_VALIDATION (400) when `date` is not a real `YYYY-MM-DD` date;
 *   GW_ERR_CALENDAR_OUT_OF_RANGE (422) when its year is outside {@link COVERED_YEARS}.
 */
export function isBusinessDay(date: string, opts: CalendarOptions = {}): boolean {
  return businessDay(parseDate(date, 'date'), opts.halfDayPolicy === 'holiday');
}

/**
 * The n-th business day after `date` (`date` itself never counts): `addBusinessDays('2026-03-13',
 * 3)` (Fri) → `'2026-03-18'`. `n = 0` returns `date` unchanged; a negative `n` counts backwards
 * (the |n|-th business day before `date`).
 * @param n whole number of business days
 * @throws GW_ERR_VALIDATION for a bad date or a non-integer `n`; GW_ERR_CALENDAR_OUT_OF_RANGE when
 *   the count reaches a day outside {@link COVERED_YEARS} (also for the start date itself).
 */
export function addBusinessDays(date: string, n: number, opts: CalendarOptions = {}): string {
  let day = parseDate(date, 'date');
  if (!Number.isSafeInteger(n)) throw gatewayError('GW_ERR_VALIDATION', ['business-day count must be an integer'], { field: 'n' });
  const year = yearOfDay(day);
  if (year < COVERED_YEARS.from || year > COVERED_YEARS.to) throw outOfRange(year);
  const halfIsHoliday = opts.halfDayPolicy === 'holiday';
  const step = n < 0 ? -1 : 1;
  let left = Math.abs(n);
  while (left > 0) {
    day += step;
    if (businessDay(day, halfIsHoliday)) left--;
  }
  return fromDay(day);
}

/**
 * Last Istanbul date on which something obtained at instant `at` (a consent or a refusal received
 * through the provider's own channels) can still be registered in İYS: `businessDays` (default 3)
 * business days counted from the day after `at`'s Istanbul date; the deadline is the end of the
 * returned day. Law 6563 regulation (amended 4 Jan 2020), DOMAIN.md §1.4, reference §5.4.
 * Example: `2025-03-28T14:00+03:00` (Fri, Ramazan Bayramı 30 Mar–1 Apr) → `'2025-04-04'`.
 * @throws GW_ERR_VALIDATION for an invalid Date or count; GW_ERR_CALENDAR_OUT_OF_RANGE outside the table.
 */
export function reportDeadline(at: Date, opts: CalendarOptions & { businessDays?: number } = {}): string {
  return addBusinessDays(istanbulDate(at), opts.businessDays ?? 3, opts);
}

/**
 * İYS H467: whether a consent whose consentDate is `consentDate` (an instant; parse İYS strings
 * with parseIysDate, Turkish time) may still be uploaded at `now`: true while `now`'s Istanbul date
 * is on or before {@link reportDeadline}(consentDate). A consentDate after `now` returns true here
 * (the future-date rule is H162, checked elsewhere). İYS does not document its exact boundary or
 * calendar (reference §4.3, gap); this is the reading of "within 3 business days after its day".
 * Field cases C03, C04.
 * @throws GW_ERR_VALIDATION for invalid Dates; GW_ERR_CALENDAR_OUT_OF_RANGE outside the table.
 */
export function isWithinUploadWindow(consentDate: Date, now: Date, opts: CalendarOptions = {}): boolean {
  const today = istanbulDate(now);
  return today <= reportDeadline(consentDate, opts);
}

/**
 * Official holidays of a year, sorted by date: `{ date: 'YYYY-MM-DD', name, half }`, where `half`
 * marks a half day (holiday from 13:00). A date that is both (2029-04-23: 23 Nisan and Kurban
 * arife) is listed once as a full holiday with both names.
 * @throws GW_ERR_CALENDAR_OUT_OF_RANGE for a year outside {@link COVERED_YEARS}.
 */
export function holidaysOf(year: number): { date: string; name: string; half: boolean }[] {
  const list = HOLIDAYS_BY_YEAR.get(year);
  if (list === undefined) throw outOfRange(year);
  return list.map((h) => ({ ...h }));
}
