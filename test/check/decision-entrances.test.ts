/**
 * Issue 15: every entrance (check, batch, scrub, /v1/send, /proxy) writes its decision records,
 * and the id its answer carries finds them through GET /v1/decisions/<id>; queries by recipient,
 * brand scoping, CSV, and the forwarding doors' records are on disk before the upstream sees the message.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStub } from '../transports/harness.ts';
import { makeGateway, toDailyCsv } from '../helpers/gateway.ts';
import { verifyDecisionLogs } from '../../src/check/decision-log/verify.ts';

const BRAND = 700001;
const AUDIT_KEY = 'audit-key-0123456789abcdef';
const OTHER_AUDIT = 'audit-other-0123456789abcd';

t.test('every entrance records, its id finds the records', async (t) => {
  let onDiskAtForward: boolean | null = null;
  let gwDir = '';
  const stub = await startStub(t, (_r, res) => {
    // the record of what the stub receives is on disk already (group commit before forwarding)
    const dir = join(gwDir, 'decisions');
    const segs = readdirSync(dir).filter((f) => f.startsWith('seg-'));
    onDiskAtForward = segs.length > 0 && segs.some((f) => readFileSync(join(dir, f)).length > 8 + 55 + 46);
    res.setHeader('content-type', 'application/json'); res.end('{"accepted":true}');
  });
  const gw = await makeGateway(t, {
    decisions: { writer: 'inline', flushMs: 10 },
    brands: [BRAND, BRAND + 1],
    apiKeys: [
      { name: 'sender', key: 'sender-key-0123456789abcdef', brands: [BRAND], scopes: ['check', 'proxy', 'import'] },
      { name: 'auditor', key: AUDIT_KEY, brands: '*', scopes: ['audit'] },
      { name: 'other-auditor', key: OTHER_AUDIT, brands: [BRAND + 1], scopes: ['audit'] },
    ],
    upstreams: [{ name: 'hook', adapter: 'webhook', url: stub.url + '/hooks', brandCode: BRAND }],
  });
  gwDir = gw.dataDir;
  const S = { authorization: 'Bearer sender-key-0123456789abcdef' };
  const A = { authorization: `Bearer ${AUDIT_KEY}` };
  const imp = await gw.call('POST', `/v1/mirror/import?brandCode=${BRAND}`, toDailyCsv([
    { recipient: '+905550000001', recipientType: 'BIREYSEL', type: 'MESAJ', status: 'ONAY', consentDate: '2024-03-01 10:00:00', source: 'HS_WEB', creationDate: '2024-03-01 10:00:05', transactionId: 'tx-1' },
  ]), { ...S, 'content-type': 'text/csv' });
  t.equal(imp.status, 200, JSON.stringify(imp.body));

  const c = await gw.call('POST', '/v1/check', { brandCode: BRAND, recipient: '05550000001', type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI' }, S);
  t.equal(c.body.decision, 'ALLOW');
  const b = await gw.call('POST', '/v1/check/batch', { brandCode: BRAND, type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI', recipients: ['05550000001', '05550000002', 'nonsense'] }, S);
  t.equal(b.headers['x-iys-gate-decision-id'], b.body.decisionId);
  const sc = await gw.call('POST', `/v1/scrub?brandCode=${BRAND}&type=MESAJ`, '05550000001\n05550000003\n', { ...S, 'content-type': 'text/plain' });
  t.equal(sc.status, 200);
  const msg = { brandCode: BRAND, type: 'MESAJ', messageType: 'TICARI', recipientType: 'BIREYSEL', recipients: ['05550000001', '05550000004'], message: 'Kampanya' };
  const se = await gw.call('POST', '/v1/send', msg, S);
  t.equal(se.status, 200, JSON.stringify(se.body));
  t.equal(onDiskAtForward, true, '/v1/send: the records were on disk when the upstream received the message');
  onDiskAtForward = null;
  const px = await gw.app.inject({ method: 'POST', url: '/proxy/hook', headers: { 'x-iys-gate-key': 'sender-key-0123456789abcdef', 'content-type': 'application/json' }, payload: msg });
  t.equal(px.statusCode, 200);
  t.equal(onDiskAtForward, true, '/proxy: on disk before forwarding');

  const expect: [string, string | undefined, number, string][] = [
    ['check', c.body.decisionId, 1, 'CONSENT_ONAY'],
    ['batch', b.body.decisionId, 3, 'CONSENT_ONAY'],
    ['scrub', sc.headers['x-iys-gate-decision-id'] as string, 2, 'CONSENT_ONAY'],
    ['send', se.headers['x-iys-gate-decision-id'] as string, 2, 'CONSENT_ONAY'],
    ['proxy', px.headers['x-iys-gate-decision-id'] as string, 2, 'CONSENT_ONAY'],
  ];
  for (const [entrance, id, n, firstReason] of expect) {
    t.match(id, /^[0-9a-f]{8}-[0-9a-z]+$/, `${entrance} answers an id`);
    const r = await gw.call('GET', `/v1/decisions/${id}`, undefined, A);
    t.equal(r.status, 200, `${entrance}: ${JSON.stringify(r.body).slice(0, 200)}`);
    t.equal(r.body.count, n, `${entrance}: one record per recipient`);
    const d = r.body.decisions[0];
    t.match(d, { entrance, brandCode: BRAND, type: 'MESAJ', recipientType: 'BIREYSEL', decision: 'ALLOW', reason: firstReason, apiKey: 'sender', declaredMessageType: 'TICARI', messageType: 'TICARI' }, entrance);
    t.match(d.consent, { status: 'ONAY' });
    t.ok(d.asOf, 'mirror asOf recorded');
    t.equal(r.body.proofs[0].proof.blockHash.length, 64, 'with its chain proof');
  }
  // the check's record carries the full consent (source, consentDate, movement reference)
  const one = (await gw.call('GET', `/v1/decisions/${c.body.decisionId}`, undefined, A)).body.decisions[0];
  t.match(one.consent, { status: 'ONAY', source: 'HS_WEB', consentDate: '2024-03-01 10:00:00', movementRef: /^[0-9a-f]{8}$/ });
  t.equal(one.via, '');
  const sent = (await gw.call('GET', `/v1/decisions/${se.headers['x-iys-gate-decision-id']}`, undefined, A)).body.decisions[0];
  t.match(sent.notes, [{ reportId: se.headers['x-iys-gate-report'], upstream: 'hook' }], 'a forwarded send\'s records name its removal report');
  const pxr = (await gw.call('GET', `/v1/decisions/${px.headers['x-iys-gate-decision-id']}`, undefined, A)).body.decisions;
  t.match(pxr, [{ via: 'hook', decision: 'ALLOW', index: undefined }, { decision: 'BLOCK', reason: 'NO_CONSENT' }]);
  const bad = (await gw.call('GET', `/v1/decisions/${b.body.decisionId}/2`, undefined, A)).body;
  t.match(bad, { count: 1, decisions: [{ decision: 'BLOCK', reason: 'INVALID_RECIPIENT' }] }, 'one recipient of a request by <id>/<index>');

  // query by recipient: every decision about +905550000001, newest first, any spelling
  const q = await gw.call('GET', '/v1/decisions?recipient=0555%20000%2000%2001&type=MESAJ', undefined, A);
  t.equal(q.status, 200);
  const lines = String(q.body).trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines.map((l) => l.entrance), ['proxy', 'send', 'scrub', 'batch', 'check'], 'newest first, one per entrance');
  t.ok(lines.every((l) => l.recipientHmac.startsWith('1:')), 'HMAC under key id 1');
  const page = await gw.app.inject({ method: 'GET', url: '/v1/decisions?recipient=%2B905550000001&limit=2', headers: A });
  const cursor = page.headers['x-iys-gate-next-cursor'] as string;
  t.ok(cursor, 'a next cursor');
  const page2 = await gw.app.inject({ method: 'GET', url: `/v1/decisions?recipient=%2B905550000001&limit=2&cursor=${cursor}`, headers: A });
  t.same(page2.body.trim().split('\n').map((l) => JSON.parse(l).entrance), ['scrub', 'batch']);
  const csv = await gw.app.inject({ method: 'GET', url: '/v1/decisions?entrance=batch', headers: { ...A, accept: 'text/csv' } });
  t.match(csv.headers['content-type'], /text\/csv/);
  t.equal(csv.body.trim().split('\n').length, 4, 'header + 3 batch records');
  // brand-scoped audit key: sees none of brand BRAND
  const other = await gw.call('GET', '/v1/decisions?recipient=%2B905550000001', undefined, { authorization: `Bearer ${OTHER_AUDIT}` });
  t.equal(String(other.body), '', 'a key of another brand sees nothing');
  t.equal((await gw.call('GET', `/v1/decisions/${c.body.decisionId}`, undefined, { authorization: `Bearer ${OTHER_AUDIT}` })).status, 403, 'another brand\'s decision: refused (403), as every other brand\'s resource');
  t.equal((await gw.call('GET', '/v1/decisions', undefined, S)).status, 403, 'scope audit required');
  t.equal((await gw.call('GET', '/v1/decisions/nope', undefined, A)).status, 400);
  // the chain verifies
  await gw.app.decisions!.commit();
  const v = verifyDecisionLogs([join(gw.dataDir, 'decisions')]);
  t.equal(v.ok, true, JSON.stringify(v.breaks));
  t.equal(v.records, 10);
});

t.test('GET /v1/decisions: an unreadable from/to is a coded 400; an unencoded + gets the %2B hint', async (t) => {
  const gw = await makeGateway(t, {
    decisions: { writer: 'inline', flushMs: 10 },
    apiKeys: [{ name: 'auditor', key: AUDIT_KEY, brands: '*', scopes: ['audit'] }],
  });
  const A = { authorization: `Bearer ${AUDIT_KEY}` };
  const plus = await gw.call('GET', '/v1/decisions?from=2026-03-03T00:00:00+03:00', undefined, A);
  t.same([plus.status, plus.body.code, plus.body.field], [400, 'GW_ERR_VALIDATION', 'from']);
  t.match(plus.body.message, /write it %2B/);
  const word = await gw.call('GET', '/v1/decisions?to=lastweek', undefined, A);
  t.same([word.status, word.body.code, word.body.field], [400, 'GW_ERR_VALIDATION', 'to']);
  t.notMatch(word.body.message, /%2B/);
  const ok = await gw.call('GET', '/v1/decisions?from=2026-03-03T00:00:00%2B03:00', undefined, A);
  t.equal(ok.status, 200);
});
