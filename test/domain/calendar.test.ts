import t from 'tap';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  COVERED_YEARS, addBusinessDays, holidaysOf, isBusinessDay, isWithinUploadWindow, reportDeadline,
} from '../../src/domain/calendar.ts';
import { parseIysDate } from '../../src/domain/turkish-time.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = JSON.parse(readFileSync(new URL('../fixtures/deadlines.json', import.meta.url), 'utf8')) as {
  cases: { at: string; deadline: string; note: string }[];
};

t.test('every case of deadlines.json holds', async (t) => {
  t.equal(fixture.cases.length, 8);
  for (const c of fixture.cases) t.equal(reportDeadline(new Date(c.at)), c.deadline, `${c.at}: ${c.note}`);
});

t.test('deadlines.json is TZ-independent (child processes)', async (t) => {
  const code = `const m = await import(${JSON.stringify(new URL('../../src/domain/calendar.ts', import.meta.url).href)});
    const f = ${JSON.stringify(fixture.cases.map((c) => c.at))};
    console.log(JSON.stringify(f.map((at) => m.reportDeadline(new Date(at)))));`;
  const want = fixture.cases.map((c) => c.deadline);
  for (const TZ of ['UTC', 'America/New_York', 'Pacific/Kiritimati']) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: root, env: { ...process.env, TZ }, encoding: 'utf8',
    });
    t.same(JSON.parse(out), want, `TZ=${TZ}`);
  }
});

t.test('COVERED_YEARS and the holiday table', async (t) => {
  t.same(COVERED_YEARS, { from: 2024, to: 2030 });
  const h2026 = holidaysOf(2026);
  t.same(h2026.map((h) => [h.date, h.half]), [
    ['2026-01-01', false],
    ['2026-03-19', true],
    ['2026-03-20', false], ['2026-03-21', false], ['2026-03-22', false],
    ['2026-04-23', false],
    ['2026-05-01', false],
    ['2026-05-19', false],
    ['2026-05-26', true],
    ['2026-05-27', false], ['2026-05-28', false], ['2026-05-29', false], ['2026-05-30', false],
    ['2026-07-15', false],
    ['2026-08-30', false],
    ['2026-10-28', true],
    ['2026-10-29', false],
  ]);
  t.equal(h2026[1]?.name, 'Ramazan Bayramı arifesi');
  t.equal(h2026[0]?.name, 'Yılbaşı');
  // Reference §5.7 table: first bayram days and arife per year.
  const firsts: Record<number, [string, string, string, string]> = {
    2024: ['2024-04-09', '2024-04-10', '2024-06-15', '2024-06-16'],
    2025: ['2025-03-29', '2025-03-30', '2025-06-05', '2025-06-06'],
    2026: ['2026-03-19', '2026-03-20', '2026-05-26', '2026-05-27'],
    2027: ['2027-03-08', '2027-03-09', '2027-05-15', '2027-05-16'],
    2028: ['2028-02-25', '2028-02-26', '2028-05-04', '2028-05-05'],
    2029: ['2029-02-13', '2029-02-14', '2029-04-23', '2029-04-24'],
    2030: ['2030-02-03', '2030-02-04', '2030-04-12', '2030-04-13'],
  };
  for (let y = COVERED_YEARS.from; y <= COVERED_YEARS.to; y++) {
    const list = holidaysOf(y);
    const [rArife, rFirst, kArife, kFirst] = firsts[y]!;
    t.ok(list.some((h) => h.date === rArife && h.half && /Ramazan/.test(h.name)), `${y} Ramazan arife`);
    t.ok(list.some((h) => h.date === rFirst && !h.half), `${y} Ramazan 1`);
    t.ok(list.some((h) => h.date === kFirst && !h.half), `${y} Kurban 1`);
    t.ok(list.some((h) => h.date === kArife && /Kurban Bayramı arifesi/.test(h.name)), `${y} Kurban arife`);
    // 7 fixed + 3 + 4 full days, less overlaps: Kurban 2027 includes 19 May.
    t.equal(list.filter((h) => !h.half).length, y === 2027 ? 13 : 14, `${y}: full holiday days`);
    t.notOk(list.some((h) => h.date === `${y}-12-31`), `${y}: 31 Dec is a working day`);
  }
  const apr23 = holidaysOf(2029).find((h) => h.date === '2029-04-23');
  t.same(apr23, { date: '2029-04-23', name: 'Ulusal Egemenlik ve Çocuk Bayramı / Kurban Bayramı arifesi', half: false },
    '2029: 23 Nisan coincides with Kurban arife → full holiday');
  holidaysOf(2026)[0]!.name = 'mutated';
  t.equal(holidaysOf(2026)[0]?.name, 'Yılbaşı', 'callers get copies');
});

t.test('isBusinessDay', async (t) => {
  t.equal(isBusinessDay('2026-03-18'), true, 'Wednesday');
  t.equal(isBusinessDay('2026-03-21'), false, 'Saturday');
  t.equal(isBusinessDay('2026-03-22'), false, 'Sunday + bayram');
  t.equal(isBusinessDay('2026-03-20'), false, 'Ramazan Bayramı');
  t.equal(isBusinessDay('2026-03-19'), true, 'arife counts by default');
  t.equal(isBusinessDay('2026-03-19', { halfDayPolicy: 'business' }), true);
  t.equal(isBusinessDay('2026-03-19', { halfDayPolicy: 'holiday' }), false, "arife with 'holiday' policy");
  t.equal(isBusinessDay('2026-10-28'), true, '28 Oct (Wed) half day counts by default');
  t.equal(isBusinessDay('2026-10-28', { halfDayPolicy: 'holiday' }), false);
  t.equal(isBusinessDay('2026-10-29'), false);
  t.equal(isBusinessDay('2026-12-31'), true, '31 Dec');
  t.equal(isBusinessDay('2027-01-01'), false, '1 Jan');
  t.equal(isBusinessDay('2026-07-15'), false);
  t.equal(isBusinessDay('2026-08-31'), true, '30 Aug is a Sunday in 2026; no substitute day');
  t.equal(isBusinessDay('2029-04-23', { halfDayPolicy: 'business' }), false, '23 Nisan wins over arife');
  t.equal(isBusinessDay('2024-01-01'), false, 'first covered day');
  t.equal(isBusinessDay('2030-12-31'), true, 'last covered day');
});

t.test('outside the table: coded error, never a guess', async (t) => {
  t.throws(() => isBusinessDay('2023-12-29'), { code: 'GW_ERR_CALENDAR_OUT_OF_RANGE', statusCode: 422, message: 'No holiday table for year 2023 (covered: 2024–2030)' });
  t.throws(() => isBusinessDay('2031-01-02'), { code: 'GW_ERR_CALENDAR_OUT_OF_RANGE', message: /2031/ });
  t.throws(() => holidaysOf(2031), { code: 'GW_ERR_CALENDAR_OUT_OF_RANGE' });
  t.throws(() => holidaysOf(2023), { code: 'GW_ERR_CALENDAR_OUT_OF_RANGE' });
  t.throws(() => addBusinessDays('2030-12-30', 3), { code: 'GW_ERR_CALENDAR_OUT_OF_RANGE', message: /2031/ }, 'count runs off the table');
  t.throws(() => reportDeadline(new Date('2030-12-31T10:00:00+03:00')), { code: 'GW_ERR_CALENDAR_OUT_OF_RANGE' });
  t.throws(() => addBusinessDays('2023-06-01', 0), { code: 'GW_ERR_CALENDAR_OUT_OF_RANGE' });
  t.throws(() => addBusinessDays('2024-01-03', -3), { code: 'GW_ERR_CALENDAR_OUT_OF_RANGE', message: /2023/ });
});

t.test('bad input: GW_ERR_VALIDATION', async (t) => {
  for (const bad of ['2026-02-29', '2026-13-01', '2026-3-1', '2026-03-01 10:00:00', '']) {
    t.throws(() => isBusinessDay(bad), { code: 'GW_ERR_VALIDATION', statusCode: 400, field: 'date' }, JSON.stringify(bad));
  }
  t.throws(() => addBusinessDays('2026-03-02', 1.5), { code: 'GW_ERR_VALIDATION', field: 'n' });
  t.throws(() => addBusinessDays('2026-03-02', Number.NaN), { code: 'GW_ERR_VALIDATION' });
  t.throws(() => reportDeadline(new Date('nope')), { code: 'GW_ERR_VALIDATION' });
});

t.test('addBusinessDays', async (t) => {
  t.equal(addBusinessDays('2026-03-13', 3), '2026-03-18');
  t.equal(addBusinessDays('2026-03-13', 1), '2026-03-16', 'Fri → Mon');
  t.equal(addBusinessDays('2026-03-14', 1), '2026-03-16', 'from a Saturday');
  t.equal(addBusinessDays('2026-03-13', 0), '2026-03-13');
  t.equal(addBusinessDays('2026-03-23', -1), '2026-03-19', 'backwards over the bayram to the arife');
  t.equal(addBusinessDays('2026-03-23', -1, { halfDayPolicy: 'holiday' }), '2026-03-18');
  t.equal(addBusinessDays('2026-12-30', 2), '2027-01-04', 'across the year boundary: 31 Dec counts, 1 Jan not');
  // 2024: 262 weekdays − 12 weekday holidays = 250 business days (arife 9 Apr and 28 Oct count).
  t.equal(addBusinessDays('2024-01-01', 250), '2024-12-31', 'the whole of 2024');
  t.equal(addBusinessDays('2024-12-31', -249), '2024-01-02');
});

t.test("'holiday' half-day policy gives a later deadline around an arife", async (t) => {
  const at = new Date('2026-03-17T10:00:00+03:00');
  t.equal(reportDeadline(at), '2026-03-23', 'default: arife 19 Mar counts');
  t.equal(reportDeadline(at, { halfDayPolicy: 'business' }), '2026-03-23');
  t.equal(reportDeadline(at, { halfDayPolicy: 'holiday' }), '2026-03-24', 'arife skipped → one day later');
  const kurban = new Date('2026-05-22T10:00:00+03:00');
  t.equal(reportDeadline(kurban, { halfDayPolicy: 'holiday' }), '2026-06-02');
  const oct = new Date('2026-10-26T10:00:00+03:00');
  t.equal(reportDeadline(oct), '2026-10-30', '28 Oct counts, 29 Oct not');
  t.equal(reportDeadline(oct, { halfDayPolicy: 'holiday' }), '2026-11-02');
});

t.test('reportDeadline: businessDays option and Istanbul date', async (t) => {
  t.equal(reportDeadline(new Date('2026-03-13T15:00:00+03:00'), { businessDays: 1 }), '2026-03-16');
  t.equal(reportDeadline(new Date('2026-03-13T15:00:00+03:00'), { businessDays: 5 }), '2026-03-23', 'Fri 20 Mar is Ramazan Bayramı');
  t.equal(reportDeadline(new Date('2026-03-13T15:00:00+03:00'), { businessDays: 4 }), '2026-03-19');
  t.equal(reportDeadline(new Date('2026-03-13T20:59:59Z')), '2026-03-18', '23:59:59 Fri in Istanbul');
  t.equal(reportDeadline(new Date('2026-03-13T21:00:00Z')), '2026-03-18', '00:00 Sat in Istanbul: weekend start');
  t.equal(reportDeadline(new Date('2026-03-15T21:00:00Z')), '2026-03-19', '00:00 Mon in Istanbul');
});

t.test('isWithinUploadWindow (H467)', async (t) => {
  const consent = parseIysDate('2025-06-05 10:00:00');
  t.equal(isWithinUploadWindow(consent, parseIysDate('2025-06-11 10:00:00')), true, 'C03');
  t.equal(isWithinUploadWindow(consent, parseIysDate('2025-06-12 23:59:59')), true, 'end of the 3rd business day');
  t.equal(isWithinUploadWindow(consent, parseIysDate('2025-06-13 00:00:00')), false, 'the day after');
  t.equal(isWithinUploadWindow(consent, parseIysDate('2025-06-05 10:00:01')), true, 'same day');
  const fri = parseIysDate('2025-03-28 14:00:00');
  t.equal(isWithinUploadWindow(fri, parseIysDate('2025-04-02 09:00:00')), true, 'C04 day 1');
  t.equal(isWithinUploadWindow(fri, parseIysDate('2025-04-03 12:00:00')), true, 'C04 day 2');
  t.equal(isWithinUploadWindow(fri, parseIysDate('2025-04-04 23:00:00')), true, 'C04 day 3');
  t.equal(isWithinUploadWindow(fri, parseIysDate('2025-04-05 00:00:01')), false);
  t.equal(isWithinUploadWindow(parseIysDate('2026-03-17 10:00:00'), parseIysDate('2026-03-24 10:00:00')), false, 'default policy');
  t.equal(isWithinUploadWindow(parseIysDate('2026-03-17 10:00:00'), parseIysDate('2026-03-24 10:00:00'), { halfDayPolicy: 'holiday' }), true);
  t.equal(isWithinUploadWindow(new Date('2026-03-12T22:30:00Z'), new Date('2026-03-18T20:59:59Z')), true, 'Istanbul dates on both sides');
  t.equal(isWithinUploadWindow(new Date('2026-03-12T22:30:00Z'), new Date('2026-03-18T21:00:00Z')), false);
});
