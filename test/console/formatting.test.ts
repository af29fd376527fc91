// The console's own formatting code (console/lib/*.js, plain ES modules): business days left
// against src/domain/calendar.ts over every covered day, Turkish and English dates, CSV, series.
import t from 'tap';
import { COVERED_YEARS, addBusinessDays, holidaysOf, isBusinessDay, reportDeadline } from '../../src/domain/calendar.ts';
import { makeCalendar } from '../../console/lib/business-days.js';
import { csvField, toCsv } from '../../console/lib/csv.js';
import { formatDate, formatDateTime, formatDaysLeft, formatDuration, formatNumber, formatPercent } from '../../console/lib/format.js';
import { decisionTotals, groupSeries } from '../../console/lib/series.js';
import { outboxRows, csvRow, CSV_HEADER } from '../../console/pages/outbox.js';

const holidays: { date: string; name: string; half: boolean }[] = [];
for (let y = COVERED_YEARS.from; y <= COVERED_YEARS.to; y++) holidays.push(...holidaysOf(y));
const next = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

t.test('business days left agree with calendar.ts on every covered day, both half-day policies', async (t) => {
  for (const halfDayPolicy of ['business', 'holiday'] as const) {
    const cal = makeCalendar({ holidays, halfDayPolicy, coveredYears: COVERED_YEARS });
    let days = 0, mismatches = 0;
    // the last week of the table is left out: a deadline 3 business days on leaves the table
    for (let d = `${COVERED_YEARS.from}-01-01`; d < `${COVERED_YEARS.to}-12-20`; d = next(d)) {
      days++;
      if (cal.isBusinessDay(d) !== isBusinessDay(d, { halfDayPolicy })) mismatches++;
      const deadline = reportDeadline(new Date(`${d}T12:00:00+03:00`), { halfDayPolicy });
      // on the day a refusal arrives: 3 left; on its deadline: 0; the day after the deadline: overdue
      if (cal.businessDaysLeft(d, deadline) !== 3) mismatches++;
      if (cal.businessDaysLeft(deadline, deadline) !== 0) mismatches++;
      if (addBusinessDays(d, 1, { halfDayPolicy }) <= deadline && cal.businessDaysLeft(addBusinessDays(d, 1, { halfDayPolicy }), deadline) !== 2) mismatches++;
      if (!(cal.businessDaysLeft(next(deadline), deadline)! < 0)) mismatches++;
    }
    t.equal(mismatches, 0, `${halfDayPolicy}: ${days} days, no disagreement`);
  }
});

t.test('business days left: holidays, weekends, overdue, out of range', async (t) => {
  const cal = makeCalendar({ holidays, halfDayPolicy: 'business', coveredYears: COVERED_YEARS });
  // Ramazan Bayramı 2025: 30 Mar–1 Apr (arife 29 Mar, a Saturday); received Fri 28 Mar → deadline Fri 4 Apr
  t.equal(reportDeadline(new Date('2025-03-28T14:00:00+03:00')), '2025-04-04');
  t.equal(cal.businessDaysLeft('2025-03-28', '2025-04-04'), 3, 'the bayram days do not count');
  t.equal(cal.businessDaysLeft('2025-04-01', '2025-04-04'), 3, 'on the last bayram day: Wed, Thu, Fri');
  t.equal(cal.businessDaysLeft('2025-04-05', '2025-04-04'), -1, 'the Saturday after a Friday deadline: overdue, not 0');
  t.equal(cal.businessDaysLeft('2025-04-08', '2025-04-04'), -2, 'Tuesday after: two business days overdue (Mon, Tue)');
  t.equal(cal.isBusinessDay('2026-10-28'), true, '28 Oct (half day) counts as business by default');
  t.equal(makeCalendar({ holidays, halfDayPolicy: 'holiday', coveredYears: COVERED_YEARS }).isBusinessDay('2026-10-28'), false, '… and not under halfDayPolicy holiday');
  t.equal(cal.businessDaysLeft('2031-01-02', '2031-01-06'), null, 'outside the table: null, never guessed');
  t.equal(cal.businessDaysLeft('2026-02-30', '2026-03-02'), null, 'not a real date');
});

t.test('Turkish dates (default) and English ones, in Istanbul time whatever the zone', async (t) => {
  t.equal(formatDate('2026-12-04'), '4 Aralık 2026 Cuma');
  t.equal(formatDate('2026-12-04', 'en'), 'Friday, 4 December 2026');
  t.equal(formatDate('2026-02-30'), '—', 'not a date');
  t.equal(formatDate(null), '—');
  // 21:30 UTC on 31 Dec is already 1 January in Istanbul (+03:00)
  t.equal(formatDateTime('2026-12-31T21:30:00Z'), '1 Ocak 2027 00:30');
  t.equal(formatDateTime('2026-12-31T21:30:00Z', 'en'), '1 January 2027 at 00:30');
  t.equal(formatDateTime(Date.parse('2026-06-15T09:05:00+03:00')), '15 Haziran 2026 09:05');
  t.equal(formatDateTime('garbage'), '—');
  t.equal(formatNumber(1234567), '1.234.567', 'Turkish grouping');
  t.equal(formatNumber(1234567, 'en'), '1,234,567');
  t.equal(formatNumber(2.5, 'tr', 1), '2,5', 'decimal comma');
  t.equal(formatPercent(0.125), '%12,5');
  t.equal(formatPercent(0.125, 'en'), '12.5%');
  t.equal(formatDuration(45_000), '45 sn');
  t.equal(formatDuration(7_500_000), '2 sa 5 dk');
  t.equal(formatDuration(90_061_000, 'en'), '1 d 1 h');
  t.equal(formatDuration(-1), '—');
  t.equal(formatDaysLeft(3), '3 iş günü');
  t.equal(formatDaysLeft(0), 'bugün son gün');
  t.equal(formatDaysLeft(-2), '2 iş günü gecikti');
  t.equal(formatDaysLeft(1, 'en'), '1 business day');
  t.equal(formatDaysLeft(-3, 'en'), '3 business days overdue');
  t.equal(formatDaysLeft(null), '—');
});

t.test('CSV: quoting, CRLF, formula guard that leaves phone numbers alone', async (t) => {
  t.equal(toCsv(['a', 'b'], [['x,y', 'say "hi"'], [null, 3]]), 'a,b\r\n"x,y","say ""hi"""\r\n,3\r\n');
  t.equal(csvField('+905321220006'), '+905321220006', 'an E.164 number stays a number');
  t.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`, 'a formula is defused');
  t.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
  t.equal(csvField('-2+3'), "'-2+3");
  t.equal(csvField(-2), '-2', 'numbers are numbers');
});

t.test('outbox rows: sorted by deadline, overdue as the gateway counts it, CSV rows', async (t) => {
  const item = (id: string, deadline: string | null, state = 'pending', extra: Record<string, unknown> = {}) => ({
    id, brandCode: 7, origin: 'rejection', state, deadline, receivedAt: '2026-11-20T10:00:00Z', attempts: 0,
    consent: { recipient: `+90532000000${id}`, type: 'MESAJ', recipientType: 'BIREYSEL', status: 'RET', source: 'HS_WEB', consentDate: '2026-11-20 13:00:00' }, ...extra,
  });
  const rows = outboxRows([item('1', '2026-12-07'), item('2', '2026-11-25'), item('3', null), item('4', '2026-11-20', 'done'), item('5', '2026-12-04', 'failed', { lastError: { code: 'H175', message: 'x' } })],
    { holidays, halfDayPolicy: 'business', coveredYears: COVERED_YEARS }, '2026-12-02');
  t.same(rows.map((r) => [r.item.id, r.left, r.overdue]), [['4', null, false], ['2', -5, true], ['5', null, false], ['1', 3, false], ['3', null, true]],
    'deadline order; overdue only while open; a refusal without deadline counts as overdue; done/failed have no days left');
  const csv = toCsv(CSV_HEADER, rows.map(csvRow)).split('\r\n');
  t.equal(csv[0], CSV_HEADER.join(','));
  t.equal(csv[2], '2,7,rejection,pending,+905320000002,MESAJ,BIREYSEL,RET,2026-11-20T10:00:00Z,2026-11-25,-5,yes,,,');
  t.match(csv[3], /,H175,x,$/);
});

t.test('decision series grouped by reason and entrance; totals and top reasons', async (t) => {
  const snap = {
    fromSecond: 100, seconds: 3,
    series: [
      { brandCode: 1, decision: 'ALLOW', reason: 'CONSENT_ONAY', entrance: 'check', counts: [1, 0, 2], total: 3 },
      { brandCode: 2, decision: 'ALLOW', reason: 'CONSENT_ONAY', entrance: 'proxy', counts: [0, 4, 0], total: 4 },
      { brandCode: 1, decision: 'BLOCK', reason: 'CONSENT_RET', entrance: 'proxy', counts: [1, 1, 1], total: 3 },
    ],
  };
  const byReason = groupSeries(snap, 'reason');
  t.same(byReason.x, [100, 101, 102]);
  t.same(byReason.groups.map((g) => [g.label, g.counts, g.total]), [['ALLOW CONSENT_ONAY', [1, 4, 2], 7], ['BLOCK CONSENT_RET', [1, 1, 1], 3]]);
  t.same(groupSeries(snap, 'entrance').groups.map((g) => [g.label, g.total]), [['proxy', 7], ['check', 3]]);
  const tot = decisionTotals(snap);
  t.same([tot.ALLOW, tot.BLOCK], [7, 3]);
  t.same(tot.top.map((x) => [x.reason, x.total, x.share]), [['CONSENT_ONAY', 7, 0.7], ['CONSENT_RET', 3, 0.3]]);
});
