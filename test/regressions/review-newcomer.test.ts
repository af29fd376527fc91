// Issue 10, "small things a new user hit": POST /v1/consents without an İYS account answered 202
// and the consent stayed pending forever (now 409 GW_ERR_IYS_NOT_CONFIGURED, nothing applied or
// queued); a 415 did not say which content types the route takes (now its message names them).
import t from 'tap';
import { makeGateway } from '../helpers/gateway.ts';

t.test('POST /v1/consents without an İYS account: 409, nothing applied, nothing queued', async (t) => {
  const gw = await makeGateway(t);
  for (const status of ['ONAY', 'RET'] as const) {
    const recipient = status === 'ONAY' ? '05321240001' : '05321240002';
    const r = await gw.call('POST', '/v1/consents', { brandCode: 5, recipient, type: 'MESAJ', status, source: 'HS_WEB', consentDate: '2026-11-28 10:00:00' });
    t.equal(r.status, 409, status);
    t.equal(r.body.code, 'GW_ERR_IYS_NOT_CONFIGURED', status);
    t.match(r.body.message, /config key iys/);
    t.equal((await gw.call('GET', `/v1/consents?brandCode=5&type=MESAJ&recipient=${recipient}`)).status, 404, `${status}: not applied`);
  }
  const late = await gw.call('POST', '/v1/consents', { brandCode: 5, recipient: '05321240003', type: 'ARAMA', status: 'RET', source: 'HS_CAGRI_MERKEZI', consentDate: '2025-11-20 10:00:00' });
  t.equal(late.status, 409, 'a late refusal too (it is recorded through POST /v1/rejections)');
  const outbox = await gw.call('GET', '/v1/outbox');
  t.same([outbox.body.items.length, outbox.body.summary.pending], [0, 0], 'nothing waits for an İYS that is not there');
  // the refusal path that needs no İYS account still works
  t.equal((await gw.call('POST', '/v1/rejections', { brandCode: 5, recipient: '05321240002', type: 'MESAJ' })).status, 201);
});

t.test('415 answers name the content types the route accepts', async (t) => {
  const gw = await makeGateway(t);
  const cases: Array<[string, string, string | undefined, string, RegExp]> = [
    ['JSON route, form body', '/v1/check', 'application/x-www-form-urlencoded', 'brandCode=1', /application\/x-www-form-urlencoded; POST \/v1\/check accepts application\/json$/],
    ['JSON route, text/plain', '/v1/rejections', 'text/plain', '05321234567', /text\/plain; POST \/v1\/rejections accepts application\/json$/],
    ['batch, XML', '/v1/check/batch', 'application/xml', '<a/>', /accepts application\/json$/],
    ['import, JSON', '/v1/mirror/import?brandCode=5', 'application/json', '{}', /application\/json; POST \/v1\/mirror\/import accepts text\/csv, text\/plain, application\/csv$/],
    ['import, no body and no type', '/v1/mirror/import?brandCode=5', undefined, '', /none; POST \/v1\/mirror\/import accepts text\/csv, text\/plain, application\/csv$/],
    ['scrub, JSON', '/v1/scrub?brandCode=5&type=MESAJ', 'application/json', '{}', /POST \/v1\/scrub accepts text\/csv, text\/plain, application\/csv, application\/octet-stream$/],
  ];
  for (const [name, url, type, payload, msg] of cases) {
    const res = await gw.app.inject({ method: 'POST', url, headers: { authorization: 'Bearer test-key-0123456789abcdef', ...(type ? { 'content-type': type } : {}) }, payload });
    t.equal(res.statusCode, 415, name);
    t.equal(res.json().code, 'GW_ERR_UNSUPPORTED_MEDIA_TYPE', name);
    t.equal(res.json().field, 'body', name);
    t.match(res.json().message, msg, name);
  }
});
