/**
 * Inbox pollers against stub provider inbox APIs (Netgsm REST v2 inbox, iletiMerkezi get-inbox,
 * Verimor inbound_messages with its greater_than cursor), the confirmation SMS through a stub
 * upstream (once per number + brand + day), and the inbound state log across a restart.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { InboundState } from '../../src/transports/inbound/inbound-state.ts';
import { makeGateway, TEST_KEY } from '../helpers/gateway.ts';

const BRAND = 700001;

interface Seen { method: string; url: string; auth: string | undefined; body: string }

async function stubProviders(t: { teardown(fn: () => unknown): void }) {
  const seen: Seen[] = [];
  const waiters: { match: (s: Seen) => boolean; resolve: (s: Seen) => void }[] = [];
  const verimor = [
    { message_id: 11, received_at: '2026-03-12T09:00:00.000+03:00', network: 'TURKCELL', source_addr: '905321120001', destination_addr: '908501234567', keyword: '', content: 'RET' },
    { message_id: 12, received_at: '2026-03-12T09:01:00.000+03:00', network: 'VODAFONE', source_addr: '905321120002', destination_addr: '908501234567', keyword: '', content: '1234 numaralı siparişim kargoya verildi mi?' },
  ];
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const c of req) body += c;
    const s: Seen = { method: req.method!, url: req.url!, auth: req.headers.authorization, body };
    seen.push(s);
    for (const w of waiters.splice(0)) { if (w.match(s)) w.resolve(s); else waiters.push(w); }
    const u = new URL(req.url!, 'http://x');
    res.setHeader('content-type', 'application/json');
    if (u.pathname === '/v2/inbound_messages') {
      const after = Number(u.searchParams.get('greater_than'));
      return res.end(JSON.stringify(verimor.filter((m) => m.message_id > after)));
    }
    if (u.pathname === '/sms/rest/v2/inbox') {
      if (!u.searchParams.get('startdate')) return res.end(JSON.stringify({ code: '30', description: 'dateless form must not be used' }));
      return res.end(JSON.stringify({ code: '00', description: 'ok', messages: [{ message: 'İPTAL', sender: '905321120003', receiver: '908501234567', datetime: '12.03.2026 10:00:00' }] }));
    }
    if (u.pathname === '/v1/get-inbox/json') {
      return res.end(JSON.stringify({ response: { status: { code: 200, message: 'İşlem başarılı' }, inbox: { message: [{ id: 'im-1', sender: '+905321120004', receiver: '7889', text: 'ABC RET', date: '2026-03-12 11:00:00' }] } } }));
    }
    res.end('{"code":"00","jobid":"1"}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise((r) => server.close(r)));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const next = (match: (s: Seen) => boolean) => {
    const hit = seen.find(match);
    if (hit) return Promise.resolve(hit);
    return new Promise<Seen>((resolve) => waiters.push({ match, resolve }));
  };
  return { url, seen, next, verimor };
}

t.test('pollers: Netgsm (date window, Basic auth), iletiMerkezi (get-inbox), Verimor (durable greater_than cursor)', async (t) => {
  const stub = await stubProviders(t);
  const creds = { username: 'user-1', password: 'pass-1' };
  const gw = await makeGateway(t, {
    brands: [{ brandCode: BRAND, shortNames: ['ABC'] }],
    upstreams: [
      { name: 'ng', adapter: 'netgsm', url: stub.url, brandCode: BRAND },
      { name: 'im', adapter: 'iletimerkezi', url: stub.url, brandCode: BRAND },
      { name: 'vm', adapter: 'verimor', url: stub.url, brandCode: BRAND },
    ],
    inbound: {
      numbers: { '+908501234567': [BRAND], '7889': [BRAND] },
      upstreams: { ng: { credentials: creds, pollIntervalMs: 3_600_000 }, im: { credentials: creds, pollIntervalMs: 3_600_000 }, vm: { credentials: creds, pollIntervalMs: 3_600_000 } },
    },
  });
  const pollers = new Map(gw.app.inbound.pollers.map((p) => [p.name, p]));
  t.equal(pollers.size, 3);
  // the pollers' own first tick runs at start: poll explicitly too, then stop them so nothing is in flight
  for (const p of pollers.values()) await p.pollOnce();
  for (const p of pollers.values()) await p.stop();
  const ngReq = await stub.next((s) => s.url.startsWith('/sms/rest/v2/inbox'));
  t.match(ngReq.url, /startdate=\d{12}&stopdate=\d{12}/, 'Netgsm: always a date window (the dateless form marks messages read)');
  t.equal(ngReq.auth, `Basic ${Buffer.from('user-1:pass-1').toString('base64')}`);
  t.same(JSON.parse((await stub.next((s) => s.url === '/v1/get-inbox/json')).body), { request: { authentication: { key: 'user-1', hash: 'pass-1' } } });
  const check = (recipient: string) => gw.call('POST', '/v1/check', { brandCode: BRAND, recipient, type: 'MESAJ', messageType: 'TICARI' });
  for (const r of ['+905321120001', '+905321120003', '+905321120004']) t.equal((await check(r)).body.reason, 'CONSENT_RET', `${r.slice(0, 6)}… refused through its poller`);
  t.not((await check('+905321120002')).body.reason, 'CONSENT_RET', 'an order question is not a refusal');
  t.equal(gw.app.inbound.state.cursor('poll:vm'), '12', 'Verimor cursor: the last message_id, durable');
  t.equal(await pollers.get('vm')!.pollOnce(), 0, 'the next poll asks for messages after it');
  t.match(stub.seen.filter((s) => s.url.startsWith('/v2/inbound_messages')).at(-1)!.url, /greater_than=12/);
  t.equal(await pollers.get('ng')!.pollOnce(), 1, 'the Netgsm window overlaps …');
  t.equal((await gw.app.iys.outbox.list((i) => i.consent.recipient === '+905321120003')).length, 1, '… and the repeat is de-duplicated');
});

t.test('confirmation SMS through the upstream: once per number and brand per day', async (t) => {
  const stub = await stubProviders(t);
  const gw = await makeGateway(t, {
    brands: [{ brandCode: BRAND, shortNames: ['ABC'] }],
    upstreams: [{ name: 'ng', adapter: 'netgsm', url: stub.url, brandCode: BRAND }],
    inbound: {
      numbers: { '+908501234567': [BRAND] },
      upstreams: { ng: { credentials: { username: 'u', password: 'p' } } },
      confirmation: { upstream: 'ng', header: 'ABC', text: '{brand}: ret talebiniz alindi.' },
    },
  });
  const reply = (messageId: string, from: string) => gw.call('POST', '/v1/inbound', { messageId, from, to: '908501234567', text: 'RET' }, { authorization: `Bearer ${TEST_KEY}` });
  t.equal((await reply('c1', '905321130001')).body.refused, 1);
  const first = await stub.next((s) => s.url === '/sms/rest/v2/send');
  t.same(JSON.parse(first.body), { msgheader: 'ABC', encoding: 'TR', iysfilter: '0', messages: [{ msg: 'ABC: ret talebiniz alindi.', no: '905321130001' }] });
  t.equal((await reply('c2', '905321130001')).body.refused, 1, 'a second RET the same day is recorded …');
  t.equal((await reply('c3', '905321130002')).body.refused, 1);
  await stub.next((s) => s.url === '/sms/rest/v2/send' && s.body.includes('905321130002'));
  const sends = stub.seen.filter((s) => s.url === '/sms/rest/v2/send');
  t.same(sends.map((s) => JSON.parse(s.body).messages[0].no), ['905321130001', '905321130002'], '… but confirmed once');
});

t.test('inbound state: dedupe ids, review items, confirmations and cursors survive a restart; dedupe is bounded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-inbound-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const opts = { dir, maxIds: 1000, keepResolvedMs: 0, now: () => Date.parse('2026-03-12T10:00:00Z') };
  const a = new InboundState(opts);
  await a.open();
  await a.markSeen(Array.from({ length: 1500 }, (_v, i) => `vm:${i}`));
  t.equal(a.counts('2026-03-12').seenIds, 1000, 'bounded: the oldest ids are forgotten');
  t.notOk(a.seen('vm:0'));
  t.ok(a.seen('vm:1499'));
  t.ok(await a.claimConfirmation('+905321140001:1:2026-03-12'));
  await a.setCursor('poll:vm', '77');
  await a.addReview({ id: 'r1', from: '9053', to: 'x', text: 'beni silin', receivedAt: '2026-03-12T10:00:00Z', messageKey: 'api:r1', via: 'api', reason: 'free-text-stop', brandCodes: [1], dueDate: '2026-03-13', state: 'open' });
  await a.close();
  const b = new InboundState(opts);
  await b.open();
  t.ok(b.seen('vm:1499'), 'dedupe id survives');
  t.ok(b.seen('api:r1'), 'a review item marks its delivery handled');
  t.notOk(await b.claimConfirmation('+905321140001:1:2026-03-12'), 'the day\'s confirmation is not sent again after a restart');
  t.equal(b.cursor('poll:vm'), '77');
  t.equal(b.counts('2026-03-14').overdue, 1, 'past its due date: overdue');
  await b.close();
});
