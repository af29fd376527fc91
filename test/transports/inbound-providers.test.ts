/**
 * The providers' MO shapes read by providers.ts, pure (no HTTP): the documented ones exactly as their
 * sources give them, the assumed ones (labelled in providers.ts) in each spelling the reader accepts,
 * and what must fail loudly (an error code, an unreadable answer) rather than read as "no messages".
 */
import t from 'tap';
import { UnreadableDelivery, parseProviderTime, readIletimerkezi, readNetgsm, readVerimor } from '../../src/transports/inbound/providers.ts';

/** The error `fn` throws (null when it throws nothing). */
const thrown = (fn: () => unknown): unknown => { try { fn(); return null; } catch (e) { return e; } };

t.test('Verimor push body (github.com/verimor/SMS-API user_guide.md "GELEN SMS ALIMI"): every documented field; delivery reports skipped', async (t) => {
  const body = [
    { message_id: 9001, type: 'inbound', received_at: '2017-01-01 09:00:00', network: 'TURKCELL', source_addr: '905321234567', destination_addr: '908501234567', keyword: 'RET', content: 'RET ABC' },
    { message_id: 9002, type: 'status', source_addr: '905321234567', destination_addr: '908501234567', content: 'x' },
  ];
  const got = readVerimor(body, 'vm');
  t.equal(got.length, 1, 'the non-inbound item is not a reply');
  t.same({ ...got[0], receivedAt: got[0]!.receivedAt!.toISOString() }, { messageId: '9001', from: '905321234567', to: '908501234567', text: 'RET ABC', receivedAt: '2017-01-01T06:00:00.000Z', via: 'vm' }, 'received_at read as Istanbul time');
  t.ok(thrown(() => readVerimor([{ type: 'inbound', source_addr: '1', destination_addr: '2' }], 'vm')) instanceof UnreadableDelivery, 'no message_id: unreadable');
});

t.test('Netgsm inbox answer (netgsm/netgsm-sms-js src/types.ts SmsInboxResponse: {code, description, messages: [{message, sender, receiver, datetime}]})', async (t) => {
  const ans = { code: '00', description: 'ok', messages: [{ message: 'İptal', sender: '905321234567', receiver: '908501234567', datetime: '12.03.2026 10:00:00' }] };
  const [r] = readNetgsm(ans, 'ng');
  t.same([r!.from, r!.to, r!.text, r!.receivedAt!.toISOString()], ['905321234567', '908501234567', 'İptal', '2026-03-12T07:00:00.000Z']);
  t.same(readNetgsm(ans, 'ng')[0]!.messageId, r!.messageId, 'no id in the answer: the key is a stable hash of the item');
  t.not(readNetgsm({ ...ans, messages: [{ ...ans.messages[0]!, message: 'RET' }] }, 'ng')[0]!.messageId, r!.messageId, 'another text, another key');
  t.same(readNetgsm({ code: '40', description: 'no messages' }, 'ng'), [], 'code 40: no messages');
  t.ok(thrown(() => readNetgsm({ code: '30', description: 'auth' }, 'ng')) instanceof UnreadableDelivery, 'any other code fails the poll, never read as empty');
  // the webhook body is not documented (assumption, providers.ts): the inbox item's fields, alone, in an array or under messages
  for (const body of [ans.messages[0], ans.messages, { messages: ans.messages }]) t.equal(readNetgsm(body, 'ng')[0]!.text, 'İptal');
});

t.test('iletiMerkezi get-inbox answer (field names an assumption, providers.ts): accepted spellings; a failed status is an error', async (t) => {
  const item = { id: 'im-1', sender: '+905321234567', receiver: '7889', text: 'ABC RET', date: '2026-03-12 11:00:00' };
  for (const response of [{ status: { code: 200 }, inbox: { message: [item] } }, { status: { code: '200' }, inbox: [item] }, { messages: [item] }, { inbox: { message: item } }]) {
    const [r] = readIletimerkezi({ response }, 'im');
    t.same([r!.messageId, r!.from, r!.to, r!.text, r!.receivedAt!.toISOString()], ['im-1', '+905321234567', '7889', 'ABC RET', '2026-03-12T08:00:00.000Z'], JSON.stringify(Object.keys(response)));
  }
  t.same(readIletimerkezi({ response: { status: { code: 200 }, inbox: { message: [] } } }, 'im'), []);
  t.ok(thrown(() => readIletimerkezi({ response: { status: { code: 401, message: 'Üyelik bilgileri hatalı' } } }, 'im')) instanceof UnreadableDelivery, '401 (API access off in the panel): an error of the poll');
  t.ok(thrown(() => readIletimerkezi({ nothing: true }, 'im')) instanceof UnreadableDelivery, 'no response object');
});

t.test('provider times', async (t) => {
  t.equal(parseProviderTime('2026-03-12T09:00:00+03:00')!.toISOString(), '2026-03-12T06:00:00.000Z');
  t.equal(parseProviderTime('120320260900')!.toISOString(), '2026-03-12T06:00:00.000Z', 'ddMMyyyyHHmm (Netgsm)');
  t.equal(parseProviderTime('12032026090030')!.toISOString(), '2026-03-12T06:00:30.000Z', 'ddMMyyyyHHmmss');
  t.equal(parseProviderTime('31.02.2026 10:00'), undefined, 'not a date');
  t.equal(parseProviderTime('yesterday'), undefined);
});
