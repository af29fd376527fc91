/**
 * The decision record's fast field conversions equal their reference definitions: consentDate
 * seconds = Date.parse of the İYS date at +03:00 (0 when unreadable), movement reference =
 * zlib CRC-32 of `creationDate|transactionId` (0 when both null, never 0 otherwise).
 */
import t from 'tap';
import { crc32 } from 'node:zlib';
import { iysDateSeconds, movementRef } from '../../src/check/decision-log/record-format.ts';

const refSeconds = (d: string | null | undefined): number => {
  if (!d || d.length < 19) return 0;
  const ms = Date.parse(`${d.slice(0, 10)}T${d.slice(11, 19)}+03:00`);
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
};
const refRef = (c: string | null, x: string | null) => (!c && !x ? 0 : crc32(`${c ?? ''}|${x ?? ''}`) || 1);

t.test('iysDateSeconds equals Date.parse on generated and edge dates', async (t) => {
  const p = (n: number, w: number) => String(n).padStart(w, '0');
  let seed = 12345; const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const dates: (string | null | undefined)[] = [null, undefined, '', '2026-01-05', '2026-01-05 10:00:00', '2024-02-29 23:59:59', '2023-02-29 12:00:00',
    '2026-12-31 23:59:59', '2026-13-01 00:00:00', '2026-00-10 00:00:00', '2026-01-32 00:00:00', '2026-01-05 24:00:00', '2026-01-05 10:60:00',
    '2026-01-05T10:00:00', '2026/01/05 10:00:00', '1970-01-01 03:00:00', '1970-01-01 02:59:59', '1969-12-31 23:00:00', '2026-01-05 10:00:00.123', 'abcd-ef-gh ij:kl:mn'];
  for (let i = 0; i < 20_000; i++) dates.push(`${p(1990 + rnd(60), 4)}-${p(1 + rnd(12), 2)}-${p(1 + rnd(31), 2)} ${p(rnd(24), 2)}:${p(rnd(60), 2)}:${p(rnd(60), 2)}`);
  let bad = 0;
  for (const d of dates) if (iysDateSeconds(d) !== refSeconds(d)) { bad++; if (bad < 5) t.fail(`${d}: ${iysDateSeconds(d)} vs ${refSeconds(d)}`); }
  t.equal(bad, 0, `${dates.length} dates agree with Date.parse`);
});

t.test('movementRef equals zlib crc32 of creationDate|transactionId, ASCII and not', async (t) => {
  const cases: [string | null, string | null][] = [[null, null], ['2026-01-05 10:00:05', null], [null, 'tx-1'], ['2026-01-05 10:00:05', 'a1b2c3d4-e5f6'],
    ['', ''], ['2026-01-05 10:00:05', 'İşlem-ğüş'], ['ç', null]];
  for (let i = 0; i < 5000; i++) cases.push([`2026-0${1 + (i % 9)}-1${i % 10} 1${i % 10}:0${i % 10}:${10 + (i % 50)}`, i % 3 ? `tx${i * 7919}` : null]);
  let bad = 0;
  for (const [c, x] of cases) if (movementRef(c, x) !== refRef(c, x)) { bad++; if (bad < 5) t.fail(`${c}|${x}`); }
  t.equal(bad, 0, `${cases.length} references agree with zlib.crc32`);
});
