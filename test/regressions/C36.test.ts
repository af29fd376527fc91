// C36: a 10,000-recipient batch must not be validated item by item into a huge error; the hard
// limit answers 413 first and one bad item is reported as a compact path `recipients.7312`.
import t from 'tap';
import { makeGateway } from '../helpers/gateway.ts';

t.test('C36: batch limit and compact item path', async (t) => {
  const gw = await makeGateway(t);
  const list: unknown[] = Array.from({ length: 10_000 }, (_, i) => `+9053210${String(i).padStart(5, '0')}`);
  list[7312] = { nested: true };
  const bad = await gw.call('POST', '/v1/check/batch', { brandCode: 1, type: 'MESAJ', recipients: list });
  t.equal(bad.status, 400);
  t.equal(bad.body.code, 'GW_ERR_VALIDATION');
  t.equal(bad.body.field, 'recipients.7312');
  t.ok(JSON.stringify(bad.body).length < 400, 'compact error body');
  const over = await gw.call('POST', '/v1/check/batch', { brandCode: 1, type: 'MESAJ', recipients: [...list.slice(0, 7312), ...list.slice(7313), 'a', 'b'] });
  t.equal(over.status, 413);
  t.equal(over.body.code, 'GW_ERR_BATCH_TOO_LARGE');
});
