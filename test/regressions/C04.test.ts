/**
 * C04 (field-cases.md): a weekend-only counter that also counted the start day made deadlines
 * around Ramazan Bayramı 2025 (30 Mar–1 Apr) two days short.
 */
import t from 'tap';
import { parseIysDate } from '../../src/domain/turkish-time.ts';
import { addBusinessDays, isWithinUploadWindow, reportDeadline } from '../../src/domain/calendar.ts';

const event = parseIysDate('2025-03-28 14:00:00'); // Friday

t.test('holiday-aware count: 2 Apr = day 1, 3 Apr = day 2', async (t) => {
  t.equal(addBusinessDays('2025-03-28', 1), '2025-04-02');
  t.equal(addBusinessDays('2025-03-28', 2), '2025-04-03');
});

t.test('still inside 3 business days on 3 Apr (and on 2 Apr)', async (t) => {
  t.equal(isWithinUploadWindow(event, parseIysDate('2025-04-02 12:00:00')), true);
  t.equal(isWithinUploadWindow(event, parseIysDate('2025-04-03 12:00:00')), true);
  t.equal(isWithinUploadWindow(event, parseIysDate('2025-04-05 00:00:00')), false, 'expires after 4 Apr');
});

t.test('opt-out report deadline for a RET received 28 Mar = end of 4 Apr', async (t) => {
  t.equal(reportDeadline(event), '2025-04-04');
  t.equal(reportDeadline(new Date('2025-03-28T14:00:00+03:00')), '2025-04-04');
});
