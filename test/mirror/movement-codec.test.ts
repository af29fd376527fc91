import t from 'tap';
import type { Movement } from '../../src/domain/types.ts';
import { decodeDate, encodeDate, lineToMovement, movementToLine } from '../../src/mirror/movement-codec.ts';

t.test('date codec round-trips and agrees with Date for every hour-ish step 2015–2035', async (t) => {
  let bad = 0;
  let n = 0;
  for (let s = Date.UTC(2015, 0, 1) / 1000; s < Date.UTC(2035, 0, 1) / 1000; s += 3607 * 5 + 13) {
    const iso = new Date((s + 10800) * 1000).toISOString();
    const want = iso.slice(0, 10) + ' ' + iso.slice(11, 19);
    if (decodeDate(s) !== want || encodeDate(want) !== s) bad++;
    n++;
  }
  t.ok(n > 30_000);
  t.equal(bad, 0);
  t.equal(decodeDate(0), null);
  t.equal(encodeDate(null), 0);
  t.equal(decodeDate(encodeDate('2024-02-29 23:59:59')), '2024-02-29 23:59:59', 'leap day');
  t.equal(decodeDate(encodeDate('2015-05-01 00:00:00')), '2015-05-01 00:00:00', 'İYS epoch');
  // the integer path agrees with Date.UTC across century rules too
  for (const d of ['1970-01-01 03:00:00', '1999-12-31 23:59:59', '2000-02-29 12:00:00', '2100-02-28 23:00:00', '2100-03-01 00:00:00', '2105-12-31 10:20:30']) {
    t.equal(encodeDate(d), Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10), +d.slice(11, 13), +d.slice(14, 16), +d.slice(17, 19)) / 1000 - 10800, d);
  }
});

t.test('journal line round trip; malformed lines are null', async (t) => {
  const m: Movement = {
    brandCode: 5, recipientType: 'TACIR', type: 'EPOSTA', recipient: 'a@b.co', status: 'RET', source: null,
    consentDate: null, creationDate: '2025-01-01 00:00:00', transactionId: 'x', noncanonical: true, retailerCode: 9, retailerAccess: [1, 2],
  };
  t.same(lineToMovement(movementToLine(m).slice(0, -1)), { ...m, retailerAccess: [1, 2] });
  t.equal(lineToMovement('1\tB\tM'), null);
  t.equal(lineToMovement('x\tB\tM\t+905\tO\t\t\t\t\t0\t\t'), null);
});
