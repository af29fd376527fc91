/**
 * The provider adapters as pure read/rewrite pairs (no sockets): what each reads from a real
 * request shape and what it writes back with a keep mask. Shapes follow the providers' public
 * docs: Netgsm OpenAPI `RestSendRequest`, iletiMerkezi `send-sms/json`, Verimor `v2/send.json`,
 * SendGrid v3 `mail/send`, iys-gate's own send shape for the webhook.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { ADAPTERS } from '../../src/transports/http-proxy/adapters.ts';
import type { ProviderRequest } from '../../src/transports/http-proxy/types.ts';

const D = { messageType: 'TICARI', recipientType: 'BIREYSEL' } as const;
const req = (path: string, body: unknown, headers: Record<string, string> = {}, method = 'POST'): ProviderRequest => ({ method, path, headers, body });

t.test('netgsm: iysfilter 0/11/12, messages[].no, rewrite drops items', async (t) => {
  const a = ADAPTERS.netgsm;
  const body = { msgheader: 'H', iysfilter: '12', messages: [{ msg: 'a', no: '5550000001' }, { msg: 'b', no: '5550000002' }] };
  t.same(a.read(req('/sms/rest/v2/send', body), D), { type: 'MESAJ', recipients: ['5550000001', '5550000002'], texts: ['a', 'b'], messageType: 'TICARI', recipientType: 'TACIR', brandCode: null });
  t.match(a.read(req('/sms/rest/v2/send', { ...body, iysfilter: '0' }), D), { messageType: 'BILGILENDIRME', recipientType: 'BIREYSEL' });
  t.match(a.read(req('/sms/rest/v2/send', { ...body, iysfilter: '11' }), D), { messageType: 'TICARI', recipientType: 'BIREYSEL' });
  t.match(a.read(req('/sms/rest/v2/send', { msgheader: 'H', messages: [] }), { messageType: 'BILGILENDIRME', recipientType: 'TACIR' }), { messageType: 'BILGILENDIRME', recipientType: 'TACIR' }, 'absent iysfilter: upstream defaults');
  t.throws(() => a.read(req('/sms/rest/v2/send', { ...body, iysfilter: '13' }), D), { name: 'UnreadableRequest' });
  t.throws(() => a.read(req('/sms/rest/v2/send', { msgheader: 'H' }), D), { name: 'UnreadableRequest' });
  t.equal(a.read(req('/sms/rest/v2/report', body), D), null, 'not a send');
  t.equal(a.read(req('/sms/rest/v2/send', body, {}, 'GET'), D), null);
  t.same(a.rewrite(body, [false, true]).body, { msgheader: 'H', iysfilter: '12', messages: [{ msg: 'b', no: '5550000002' }] });
  t.equal(body.messages.length, 2, 'input not mutated');
});

const OPENAPI = new URL('../../../shared/providers/netgsm-sms-openapi.json', import.meta.url);
t.test('netgsm: the shape in Netgsm\'s OpenAPI (../shared, never copied into the repo)', {
  skip: existsSync(OPENAPI) || process.env.CI ? false : '../shared/providers/netgsm-sms-openapi.json not present (third-party file, not in the repo)',
}, async (t) => {
  const p = OPENAPI;
  const api = JSON.parse(readFileSync(p, 'utf8'));
  t.ok(api.paths['/sms/rest/v2/send']?.post, 'send path is the one the adapter reads');
  const schema = api.components.schemas.RestSendRequest.allOf[1];
  t.same(schema.required, ['msgheader', 'messages']);
  t.ok(schema.properties.iysfilter && schema.properties.messages.items.properties.no, 'iysfilter and messages[].no exist');
  t.equal(api.components.securitySchemes.basicAuth.scheme, 'basic', 'provider auth is basic: passed through');
});

t.test('iletimerkezi: iys 1/0 + iysList, order.message.receipents.number', async (t) => {
  const a = ADAPTERS.iletimerkezi;
  const body = { request: { authentication: { key: 'K', hash: 'H' }, order: { sender: 'FIRMA', sendDateTime: [], iys: '1', iysList: 'TACIR',
    message: { text: 'Merhaba', receipents: { number: ['5550000001', '905550000002', '+905550000003'] } } } } };
  t.same(a.read(req('/v1/send-sms/json', body), D), { type: 'MESAJ', recipients: ['5550000001', '905550000002', '+905550000003'], texts: ['Merhaba'], messageType: 'TICARI', recipientType: 'TACIR', brandCode: null });
  const info = { request: { ...body.request, order: { ...body.request.order, iys: '0' } } };
  t.match(a.read(req('/v1/send-sms/json', info), D), { messageType: 'BILGILENDIRME' });
  t.same(a.rewrite(body, [true, false, true]).body, { request: { authentication: { key: 'K', hash: 'H' }, order: { sender: 'FIRMA', sendDateTime: [], iys: '1', iysList: 'TACIR',
    message: { text: 'Merhaba', receipents: { number: ['5550000001', '+905550000003'] } } } } });
  const multi = { request: { order: { iys: '1', iysList: 'BIREYSEL', message: [
    { text: 'A', receipents: { number: ['5550000001'] } }, { text: 'B', receipents: { number: ['5550000002', '5550000003'] } }] } } };
  t.same(a.read(req('/v1/send-sms/json', multi), D)!.recipients, ['5550000001', '5550000002', '5550000003']);
  t.same((a.rewrite(multi, [false, true, false]).body as typeof multi).request.order.message, [{ text: 'B', receipents: { number: ['5550000002'] } }], 'emptied message dropped');
  t.throws(() => a.read(req('/v1/send-sms/json', { request: { order: { iys: '2', message: { text: 'x', receipents: { number: [] } } } } }), D), { name: 'UnreadableRequest' });
  t.equal(a.read(req('/v1/get-balance/json', body), D), null);
});

t.test('verimor: is_commercial + iys_recipient_type, comma-separated dest', async (t) => {
  const a = ADAPTERS.verimor;
  const body = { username: 'u', password: 'p', source_addr: 'FIRMA', is_commercial: true, iys_recipient_type: 'BIREYSEL',
    messages: [{ msg: 'A', dest: '905550000001,905550000002' }, { msg: 'B', dest: '905550000003' }] };
  t.same(a.read(req('/v2/send.json', body), D), { type: 'MESAJ', recipients: ['905550000001', '905550000002', '905550000003'], texts: ['A', 'B'], messageType: 'TICARI', recipientType: 'BIREYSEL', brandCode: null });
  t.match(a.read(req('/v2/send.json', { ...body, is_commercial: false }), D), { messageType: 'BILGILENDIRME' });
  t.match(a.read(req('/v2/send.json', { ...body, is_commercial: 'true', iys_recipient_type: 'TACIR' }), D), { messageType: 'TICARI', recipientType: 'TACIR' });
  t.throws(() => a.read(req('/v2/send.json', { ...body, iys_recipient_type: 'KURUMSAL' }), D), { name: 'UnreadableRequest' });
  t.same((a.rewrite(body, [false, true, false]).body as typeof body).messages, [{ msg: 'A', dest: '905550000002' }]);
  t.same((a.rewrite(body, [true, true, true]).body as typeof body).messages, body.messages);
});

t.test('sendgrid: to/cc/bcc per personalization, header message type, drops a personalization without to', async (t) => {
  const a = ADAPTERS.sendgrid;
  const body = {
    personalizations: [
      { to: [{ email: 'a@example.com', name: 'A' }], cc: [{ email: 'b@example.com' }], bcc: [{ email: 'c@example.com' }] },
      { to: [{ email: 'd@example.com' }], cc: [{ email: 'e@example.com' }], subject: 'Size özel kupon' },
    ],
    from: { email: 'shop@example.com' }, subject: 'Kasım bülteni', content: [{ type: 'text/plain', value: 'Merhaba' }, { type: 'text/html', value: '<b>x</b>' }],
  };
  t.same(a.read(req('/v3/mail/send', body, { 'x-iys-message-type': 'bilgilendirme' }), D), {
    type: 'EPOSTA', recipients: ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com', 'e@example.com'],
    texts: ['Kasım bülteni', 'Size özel kupon', 'Merhaba', 'x'], messageType: 'BILGILENDIRME', recipientType: 'BIREYSEL', brandCode: null,
  });
  t.match(a.read(req('/v3/mail/send', body), { messageType: 'TICARI', recipientType: 'TACIR' }), { messageType: 'TICARI', recipientType: 'TACIR' }, 'upstream default');
  t.throws(() => a.read(req('/v3/mail/send', body, { 'x-iys-message-type': 'PROMO' }), D), { name: 'UnreadableRequest' });
  const rw = a.rewrite(body, [true, false, true, false, true]);
  t.same((rw.body as typeof body).personalizations, [{ to: [{ email: 'a@example.com', name: 'A' }], bcc: [{ email: 'c@example.com' }] }]);
  t.same(rw.dropped, [4], 'e@ is allowed but its personalization has no to left');
});

t.test('webhook: iys-gate send shape', async (t) => {
  const a = ADAPTERS.webhook;
  const body = { brandCode: 600001, type: 'ARAMA', messageType: 'TICARI', recipientType: 'BIREYSEL', recipients: ['+905550000001', '05550000002'], message: { subject: 'S', text: 'T' } };
  t.same(a.read(req('/', body), D), { type: 'ARAMA', recipients: ['+905550000001', '05550000002'], texts: ['S', 'T'], messageType: 'TICARI', recipientType: 'BIREYSEL', brandCode: 600001 });
  t.same((a.rewrite(body, [false, true]).body as typeof body).recipients, ['05550000002']);
  t.throws(() => a.read(req('/', { ...body, type: 'FAX' }), D), { name: 'UnreadableRequest' });
  t.throws(() => a.read(req('/', { ...body, recipients: [1] }), D), { name: 'UnreadableRequest' });
  t.equal(a.read(req('/', body, {}, 'GET'), D), null);
});
