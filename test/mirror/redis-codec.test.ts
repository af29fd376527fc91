import t from 'tap';
import { compareMovements } from '../../src/domain/consent-order.ts';
import { CONSENT_SOURCES, type Movement } from '../../src/domain/types.ts';
import {
  decodeDate, decodeField, decodeValue, encodeDate, encodeField, encodeValue, identityLength,
} from '../../src/mirror/redis-codec.ts';

// The Lua script compares bytes 3–14 of encoded values as strings and the status byte; these
// tests pin that the encoding preserves consent-order.ts exactly and round-trips every field.

const pad = (n: number) => String(n).padStart(2, '0');
function randomDate(rnd: () => number): string {
  return `${2010 + Math.floor(rnd() * 65)}-${pad(1 + Math.floor(rnd() * 12))}-${pad(1 + Math.floor(rnd() * 31))} `
    + `${pad(Math.floor(rnd() * 24))}:${pad(Math.floor(rnd() * 60))}:${pad(Math.floor(rnd() * 60))}`;
}
let seed = 42;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };

t.test('date codes round-trip and sort like the date strings', async (t) => {
  const dates = Array.from({ length: 5000 }, () => randomDate(rnd));
  dates.push('2010-01-01 00:00:00', '2074-12-31 23:59:59', '2024-02-30 12:00:00', '2015-05-01 00:00:00');
  let bad = 0;
  for (const d of dates) if (decodeDate(encodeDate(d)) !== d) bad++;
  t.equal(bad, 0, 'every date round-trips, even a calendar-invalid 30 February');
  const byString = [...dates].sort();
  const byCode = [...dates].sort((a, b) => (encodeDate(a) < encodeDate(b) ? -1 : encodeDate(a) > encodeDate(b) ? 1 : 0));
  t.same(byCode, byString);
  t.equal(encodeDate(null), '000000');
  t.ok(encodeDate('2010-01-01 00:00:00') > '000000', 'null sorts before every date');
  t.equal(decodeDate('000000'), null);
  for (const bad of ['2009-12-31 23:59:59', '2075-01-01 00:00:00', '2026-13-01 00:00:00', '2026-01-01T00:00:00', '2026-1-01 00:00:00', 'x']) {
    t.throws(() => encodeDate(bad), { code: 'GW_ERR_VALIDATION' }, bad);
  }
});

t.test('value sort key + status byte reproduce compareMovements', async (t) => {
  const base: Movement = { brandCode: 1, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905321234567', status: 'ONAY',
    source: 'HS_WEB', consentDate: null, creationDate: null, transactionId: null };
  const luaCmp = (a: Buffer, b: Buffer): number => {
    const ka = a.toString('latin1', 2, 14);
    const kb = b.toString('latin1', 2, 14);
    if (ka !== kb) return ka > kb ? 1 : -1;
    const ra = a[0] === 0x52 || a[0] === 0x72;
    const rb = b[0] === 0x52 || b[0] === 0x72;
    return ra === rb ? 0 : ra ? 1 : -1;
  };
  const few = ['2026-03-01 10:00:00', '2026-03-01 10:00:01', '2026-03-02 00:00:00', null];
  const ms: Movement[] = [];
  for (const cd of few) for (const cr of few) for (const status of ['ONAY', 'RET'] as const) {
    for (const noncanonical of [false, true]) ms.push({ ...base, consentDate: cd, creationDate: cr, status, noncanonical });
  }
  let mismatches = 0;
  for (const a of ms) for (const b of ms) {
    if (Math.sign(luaCmp(encodeValue(a), encodeValue(b))) !== Math.sign(compareMovements(a, b))) mismatches++;
  }
  t.equal(mismatches, 0, `${ms.length ** 2} pairs compared`);
});

t.test('fields and values round-trip; identity excludes retailer fields', async (t) => {
  const keys = [
    { brandCode: 0, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905321234567' },
    { brandCode: 999999999, recipientType: 'TACIR', type: 'EPOSTA', recipient: 'a.b+c@xn--rnek-4qa.com.tr' },
    { brandCode: 7, recipientType: 'TACIR', type: 'ARAMA', recipient: '+441632960961' },
    { brandCode: 7, recipientType: 'BIREYSEL', type: 'ARAMA', recipient: '+9005321234567' },
    { brandCode: 7, recipientType: 'BIREYSEL', type: 'ARAMA', recipient: 'weird-no-plus' },
    { brandCode: 7, recipientType: 'BIREYSEL', type: 'ARAMA', recipient: '=starts-with-equals' },
  ] as const;
  for (const k of keys) t.same(decodeField(encodeField(k)), k, k.recipient);
  t.equal(encodeField(keys[0]), `0A5321234567`, 'Turkish mobile stored without +90');
  t.throws(() => encodeField({ ...keys[0], recipient: 'a\nb' }), { code: 'GW_ERR_VALIDATION' });
  t.throws(() => encodeField({ ...keys[0], brandCode: -1 }), { code: 'GW_ERR_VALIDATION' });

  const m: Movement = { ...keys[0], status: 'RET', source: 'IYS_AHS_HAT_KAPATMA', consentDate: '2026-03-02 09:14:00',
    creationDate: '2026-03-02 09:15:02', transactionId: 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb',
    noncanonical: true, retailerCode: 35, retailerAccess: [1, 2, 1_000_000] };
  const v = encodeValue(m);
  t.equal(v.length, 47 + 'z/1,2,lfls'.length, '32 raw bytes for a hex transactionId');
  t.equal(v.toString('latin1', 47), 'z/1,2,lfls', 'retailer fields in base 36');
  t.same(decodeValue(keys[0], v), m);
  t.equal(identityLength(v), 47);
  const plain = encodeValue({ ...m, retailerCode: null, retailerAccess: null });
  t.same(v.subarray(0, identityLength(v)), plain.subarray(0, identityLength(plain)));
  for (const tx of [null, 'ABC', 'x'.repeat(300), 'CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB']) {
    t.equal(decodeValue(keys[0], encodeValue({ ...m, transactionId: tx })).transactionId, tx, String(tx).slice(0, 10));
  }
  for (const source of [...CONSENT_SOURCES, null]) t.equal(decodeValue(keys[0], encodeValue({ ...m, source })).source, source);
  t.throws(() => encodeValue({ ...m, status: 'MAYBE' as never }), { code: 'GW_ERR_VALIDATION' });
  t.throws(() => encodeValue({ ...m, retailerCode: -3 }), { code: 'GW_ERR_VALIDATION' });
});
