/**
 * C03 (field-cases.md), date/calendar part: consentDate is Turkish time and H467 counts 3
 * business days, so a consent from the Kurban Bayramı arife is still uploadable six calendar days later.
 */
import t from 'tap';
import { parseIysDate } from '../../src/domain/turkish-time.ts';
import { addBusinessDays, isBusinessDay, isWithinUploadWindow, reportDeadline } from '../../src/domain/calendar.ts';

t.test('consentDate "2025-06-05 10:00:00" is parsed as TRT (+03:00)', async (t) => {
  t.equal(parseIysDate('2025-06-05 10:00:00').toISOString(), '2025-06-05T07:00:00.000Z');
});

t.test('business days after it: 10, 11, 12 Jun (Kurban Bayramı 6–9 Jun)', async (t) => {
  for (const d of ['2025-06-06', '2025-06-07', '2025-06-08', '2025-06-09']) t.equal(isBusinessDay(d), false, d);
  t.equal(addBusinessDays('2025-06-05', 1), '2025-06-10');
  t.equal(addBusinessDays('2025-06-05', 2), '2025-06-11');
  t.equal(addBusinessDays('2025-06-05', 3), '2025-06-12');
});

t.test('evaluated 2025-06-11 10:00 TRT: still uploadable (submit, do not skip)', async (t) => {
  const consent = parseIysDate('2025-06-05 10:00:00');
  t.equal(isWithinUploadWindow(consent, parseIysDate('2025-06-11 10:00:00')), true);
  const deadline = reportDeadline(consent);
  t.equal(deadline, '2025-06-12');
  t.ok(deadline >= '2025-06-12', 'deadline helper returns a date ≥ 2025-06-12');
});
