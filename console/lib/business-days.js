// Business days left to an outbox deadline, counted as the gateway counts them
// (src/domain/calendar.ts): Monday–Friday except official holidays (Law 2429); a half day
// (bayram arife, 28 October) counts as a business day unless the policy is 'holiday'.
// The holiday list comes from GET /v1/console/calendar, so this file holds no table of its own.

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** 'YYYY-MM-DD' → days since 1970-01-01, or undefined when not a real date. */
export function toDay(date) {
  const m = typeof date === 'string' ? DATE_RE.exec(date) : null;
  if (m === null) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(ms).toISOString().slice(0, 10) !== date) return undefined;
  return ms / DAY_MS;
}

/** days since 1970-01-01 → 'YYYY-MM-DD'. */
export function fromDay(day) {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * A calendar over the gateway's holiday list.
 * @param {{ holidays: {date: string, half: boolean}[], halfDayPolicy?: 'business'|'holiday', coveredYears: {from: number, to: number} }} cal
 *   what GET /v1/console/calendar answers
 * @returns {{ isBusinessDay(date: string): boolean|null, businessDaysLeft(today: string, deadline: string): number|null }}
 *   `null` for a date outside the covered years (the gateway never guesses those either)
 */
export function makeCalendar(cal) {
  const full = new Set();
  const half = new Set();
  for (const h of cal.holidays) (h.half ? half : full).add(h.date);
  const halfIsHoliday = cal.halfDayPolicy === 'holiday';
  const covered = (day) => {
    const y = new Date(day * DAY_MS).getUTCFullYear();
    return y >= cal.coveredYears.from && y <= cal.coveredYears.to;
  };
  const businessDay = (day) => {
    const wd = (((day + 4) % 7) + 7) % 7; // 0 = Sunday (1970-01-01 was a Thursday)
    if (wd === 0 || wd === 6) return false;
    const d = fromDay(day);
    if (full.has(d)) return false;
    return !(halfIsHoliday && half.has(d));
  };
  /** Business days in (a, b], a < b, or null outside the covered years. */
  const between = (a, b) => {
    if (!covered(a) || !covered(b)) return null;
    let n = 0;
    for (let d = a + 1; d <= b; d++) if (businessDay(d)) n++;
    return n;
  };
  return {
    /** Whether `date` ('YYYY-MM-DD') is a business day; null outside the covered years or for a bad date. */
    isBusinessDay(date) {
      const d = toDay(date);
      return d === undefined || !covered(d) ? null : businessDay(d);
    },
    /**
     * Business days left on `today` to register an item whose deadline is the end of `deadline`:
     * the business days after today up to and including the deadline day. On the day a refusal
     * arrives this is 3 (the deadline is the 3rd business day after it); on the deadline day 0;
     * after it (overdue) minus the business days since the deadline, at least 1 (−1 on the first
     * weekend after a Friday deadline). null for a bad or uncovered date.
     */
    businessDaysLeft(today, deadline) {
      const t = toDay(today);
      const d = toDay(deadline);
      if (t === undefined || d === undefined) return null;
      if (d >= t) return between(t, d);
      const past = between(d, t);
      return past === null ? null : -Math.max(1, past);
    },
  };
}
