// Found by the bad-input review of 2026-11-29 (not field cases): each case is the request that
// failed then, with the answer it must get now.
import t from 'tap';
import { makeGateway } from '../helpers/gateway.ts';

const CSV = { 'content-type': 'text/csv' };
const UPLOAD_HEAD = 'recipient,type,source,status,consentDate,recipientType';

t.test('F1: a future-dated ONAY is refused at import, so a later refusal blocks', async (t) => {
  const gw = await makeGateway(t);
  const imp = await gw.call('POST', '/v1/mirror/import?brandCode=5', `${UPLOAD_HEAD}\n+905321280001,MESAJ,HS_WEB,ONAY,2099-03-02 09:14:00,BIREYSEL\n`, CSV);
  t.match(imp.body, { applied: 0, rejected: 1 });
  t.match(imp.body.errors[0], { field: 'consentDate', code: 'GW_ERR_IMPORT_INVALID_FIELD' });
  t.match(imp.body.errors[0].message, /future/);
  const rej = await gw.call('POST', '/v1/rejections', { brandCode: 5, recipient: '05321280001', type: 'MESAJ' });
  t.equal(rej.body.outcome, 'applied');
  const chk = await gw.call('POST', '/v1/check', { brandCode: 5, recipient: '05321280001', type: 'MESAJ' });
  t.same([chk.body.decision, chk.body.reason], ['BLOCK', 'CONSENT_RET']);
});

t.test('F4: a column twice in the header is a format error', async (t) => {
  const gw = await makeGateway(t);
  const r = await gw.call('POST', '/v1/mirror/import?brandCode=5', `${UPLOAD_HEAD},recipient\n+905321270032,MESAJ,HS_WEB,ONAY,2025-01-01 10:00:00,BIREYSEL,+905321270099\n`, CSV);
  t.equal(r.status, 400);
  t.equal(r.body.code, 'GW_ERR_IMPORT_FORMAT');
});

t.test('W3: values İYS never produces are row errors', async (t) => {
  const gw = await makeGateway(t);
  const rows = [
    '+905321270101,MESAJ,HS_2015,ONAY,2016-01-01 10:00:00,BIREYSEL',
    '+905321270102,MESAJ,HS_KARAR,ONAY,2025-01-01 10:00:00,BIREYSEL',
    '+905321270103,MESAJ,IYS_MOBIL,RET,2025-01-01 10:00:00,BIREYSEL',
    '+905321270104,MESAJ,HS_WEB,ONAY,2014-01-01 10:00:00,BIREYSEL',
  ];
  const r = await gw.call('POST', '/v1/mirror/import?brandCode=5', `${UPLOAD_HEAD}\n${rows.join('\n')}\n`, CSV);
  t.same(r.body.errors.map((e: { field: string }) => e.field), ['consentDate', 'status', 'source', 'consentDate']);
  t.equal(r.body.applied, 0);
  const tx = await gw.call('POST', '/v1/mirror/import?brandCode=5', `creationDate,transactionId,recipient,recipientType,type,status,consentDate,source\n2025-01-01 10:00:00,${'a'.repeat(200)},+905321270105,BIREYSEL,MESAJ,ONAY,2025-01-01 10:00:00,HS_WEB\n`, CSV);
  t.equal(tx.body.errors[0].field, 'transactionId');
});

t.test('C1: an import with a JSON body is 415, not 500', async (t) => {
  const gw = await makeGateway(t);
  const r = await gw.call('POST', '/v1/mirror/import?brandCode=5', { a: 1 });
  t.equal(r.status, 415);
  t.equal(r.body.code, 'GW_ERR_UNSUPPORTED_MEDIA_TYPE');
});

t.test('C2: a body without newlines is a bounded row error, not a quadratic stall', async (t) => {
  const gw = await makeGateway(t);
  const body = `${UPLOAD_HEAD}\n${'x'.repeat(3 * 1024 * 1024)}`;
  const started = Date.now();
  const r = await gw.call('POST', '/v1/mirror/import?brandCode=5', body, CSV);
  t.equal(r.status, 200);
  t.equal(r.body.rejected, 1);
  t.match(r.body.errors[0], { code: 'GW_ERR_IMPORT_ROW_SHAPE', line: 2 });
  t.ok(Date.now() - started < 5000, 'answered promptly');
});

t.test('W1: a brandCode in hex or exponent form is refused, not coerced into another brand', async (t) => {
  const gw = await makeGateway(t);
  for (const b of ['0x10', '1e5', '%20100004', '-1', '007']) {
    const r = await gw.call('POST', `/v1/mirror/import?brandCode=${b}`, `${UPLOAD_HEAD}\n`, CSV);
    t.equal(r.status, 400, b);
    t.equal(r.body.field, 'brandCode', b);
  }
});

t.test('W5/W6: text/plain on a JSON route is 415; an over-long batch item is that item\'s BLOCK', async (t) => {
  const gw = await makeGateway(t);
  const plain = await gw.call('POST', '/v1/check', '{"brandCode":1}', { 'content-type': 'text/plain' });
  t.equal(plain.status, 415);
  const r = await gw.call('POST', '/v1/check/batch', { brandCode: 1, type: 'EPOSTA', recipients: ['a'.repeat(400) + '@example.com', 'ali@example.com'] });
  t.equal(r.status, 200);
  t.same(r.body.results.map((x: { reason: string }) => x.reason), ['INVALID_RECIPIENT', 'NO_CONSENT']);
});

t.test('W7/W2: a refusal for an unregistrable address blocks but is not queued; a pre-calendar date is coded and overdue', async (t) => {
  const gw = await makeGateway(t);
  const r = await gw.call('POST', '/v1/rejections', { brandCode: 5, recipient: 'ayşe@example.com', type: 'EPOSTA' });
  t.equal(r.status, 201);
  t.equal(r.body.queued, false);
  t.equal((await gw.call('GET', '/v1/outbox')).body.summary.pending, 0);
  const old = await gw.call('POST', '/v1/rejections', { brandCode: 5, recipient: '05321270201', type: 'MESAJ', receivedAt: '2020-06-01T10:00:00Z' });
  t.equal(old.status, 201);
  t.equal(old.body.reportDeadline, null);
  t.equal(old.body.deadlineError, 'GW_ERR_CALENDAR_OUT_OF_RANGE');
  t.equal((await gw.call('GET', '/v1/outbox')).body.summary.overdue, 1);
  t.equal((await gw.call('POST', '/v1/check', { brandCode: 5, recipient: '05321270201', type: 'MESAJ' })).body.reason, 'CONSENT_RET');
});

t.test('F5: a refusal İYS would refuse as late (H467) still blocks here, and is queued for İYS (issue 12: no refusal in the mirror without its outbox item)', async (t) => {
  // POST /v1/consents needs an İYS account (409 without one, issue 10); loops off, never contacted
  const gw = await makeGateway(t, { mirrorMaxAgeMs: 0, iys: { baseUrl: 'http://127.0.0.1:9', iysCode: 5, username: 'u', password: 'p', brands: [5], pullIntervalMs: 0, uploadIntervalMs: 0, reconcileDaily: false } });
  const r = await gw.call('POST', '/v1/consents', { brandCode: 5, recipient: '05321270301', type: 'ARAMA', status: 'RET', source: 'HS_CAGRI_MERKEZI', consentDate: '2025-11-20 10:00:00' });
  t.equal(r.status, 202);
  t.match(r.body, { effective: true, queued: true, iysError: { code: 'H467' } });
  t.type(r.body.id, 'string');
  t.equal((await gw.call('POST', '/v1/check', { brandCode: 5, recipient: '05321270301', type: 'ARAMA' })).body.reason, 'CONSENT_RET');
  const onay = await gw.call('POST', '/v1/consents', { brandCode: 5, recipient: '05321270302', type: 'ARAMA', status: 'ONAY', source: 'HS_CAGRI_MERKEZI', consentDate: '2025-11-20 10:00:00' });
  t.equal(onay.status, 422, 'a late ONAY is refused');
});

t.test('W4: errors of the HTTP parser carry a code too', async (t) => {
  const gw = await makeGateway(t);
  const addr = await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = new URL(addr);
  const { connect } = await import('node:net');
  const raw = (req: string) => new Promise<string>((resolve) => {
    const s = connect(Number(port), '127.0.0.1', () => s.end(req));
    let out = '';
    s.on('data', (d) => { out += d; });
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
  });
  const big = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  t.match(big, /^HTTP\/1\.1 431/);
  t.match(big, /"code":"GW_ERR_HEADERS_TOO_LARGE"/);
  const bad = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n');
  t.match(bad, /^HTTP\/1\.1 400/);
  t.match(bad, /"code":"GW_ERR_BAD_REQUEST"/);
});
