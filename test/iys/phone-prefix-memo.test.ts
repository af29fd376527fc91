import t from 'tap';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { phoneErrors } from '../../src/iys/consent-rules.ts';

t.test('the per-prefix memo of Turkish mobile validity agrees with libphonenumber number by number', async (t) => {
  let checked = 0;
  let disagree = 0;
  // every 6-digit national prefix 5xxxxx, several numbers each, in an order that fills the memo first
  for (let p = 500000; p < 600000; p += 7) {
    for (const tail of ['0000', '1234', '9999']) {
      const n = `+90${p}${tail}`;
      const want = isValidPhoneNumber(n) ? [] : ['H121'];
      if (JSON.stringify(phoneErrors(n)) !== JSON.stringify(want)) disagree++;
      checked++;
    }
  }
  t.ok(checked > 40_000);
  t.equal(disagree, 0);
  t.same(phoneErrors('+905610110000'), [], '561011xxxx is a valid range');
  t.same(phoneErrors('+905610120000'), ['H121'], '561012xxxx is not');
  t.same(phoneErrors('+9005321234567'), ['H121'], 'the +9005 form is refused (C01)');
});
