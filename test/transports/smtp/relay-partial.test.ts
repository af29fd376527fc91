/**
 * Partial upstream failures (issue 13 gap: one copy per recipient, because each carries its own
 * List-Unsubscribe token; or one transaction whose RCPT TOs the upstream refuses in part). The
 * rule (transaction.ts `settle`, README "Partial upstream failures"): 250 only when every
 * accepted recipient has the message, or the ones without it were refused permanently and a DSN
 * saying so was taken; else 451 GW_ERR_SMTP_UPSTREAM_PARTIAL, and the client's retry of the same
 * bytes goes only to the recipients that do not have it yet.
 */
import t, { type Test } from 'tap';
import { client, makeSmtpGateway, mv, startSink, type SinkMessage } from './smtp-harness.ts';

const RCPTS = ['r1@example.com', 'r2@example.com', 'r3@example.com'];
const raw = (subject: string) => `From: Shop <shop@brand.example>\r\nTo: list@brand.example\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@brand.example>\r\n\r\nKampanya metni\r\n`;
type Reply = { ok: true; response: string } | { ok: false; code: number | undefined; response: string };

async function setup(t: Test, behave: Parameters<typeof startSink>[1], rcpt?: Parameters<typeof startSink>[2], smtp: Record<string, unknown> = {}) {
  const sink = await startSink(t, behave, rcpt);
  const gw = await makeSmtpGateway(t, sink.port, { upstream: { host: '127.0.0.1', port: sink.port, timeoutMs: 2000, retryDelayMs: 20 }, ...smtp });
  await gw.store.apply(RCPTS.map((r) => mv(r, 'ONAY')));
  const c = client(gw.smtpPort);
  const send = (subject: string, from = 'shop@brand.example'): Promise<Reply> => c.sendMail({ envelope: { from, to: RCPTS }, raw: raw(subject) })
    .then((i) => ({ ok: true as const, response: i.response }), (e: { responseCode?: number; response?: string }) => ({ ok: false as const, code: e.responseCode, response: e.response ?? String(e) }));
  return { sink, gw, send };
}
const copiesTo = (ms: readonly SinkMessage[], rcpt: string) => ms.filter((m) => m.from !== '' && m.to.length === 1 && m.to[0] === rcpt);
const tokenOf = (m: SinkMessage) => /List-Unsubscribe: <https:\/\/gate\.example\.com\/u\/([\w-]+)>/.exec(m.raw.toString())?.[1];

t.test('the 2nd of 3 copies refused permanently: 250 only with a DSN to the sender that the upstream took', async (t) => {
  const { sink, send } = await setup(t, async (_n, env) => (env.to[0] === 'r2@example.com' && env.from !== '' ? { code: 550, text: '5.1.1 r2: no such mailbox' } : null));
  const r = await send('perm-1');
  t.ok(r.ok, 'acknowledged: the refusal is reported by a DSN');
  t.match(r.ok && r.response, /^250 2\.6\.0 Ok: forwarded to 2 of 3 recipients; 1 refused by the upstream \(550 5\.1\.1 r2: no such mailbox\), a DSN went to the envelope sender/);
  t.equal(copiesTo(sink.messages, 'r1@example.com').length, 1);
  t.equal(copiesTo(sink.messages, 'r2@example.com').length, 0);
  t.equal(copiesTo(sink.messages, 'r3@example.com').length, 1);
  t.not(tokenOf(copiesTo(sink.messages, 'r1@example.com')[0]!), tokenOf(copiesTo(sink.messages, 'r3@example.com')[0]!), 'each copy its own token');
  const dsn = sink.messages.filter((m) => m.from === '');
  t.equal(dsn.length, 1, 'one DSN');
  t.same(dsn[0]!.to, ['shop@brand.example'], 'to the envelope sender');
  const d = dsn[0]!.raw.toString();
  t.match(d, /Final-Recipient: rfc822; r2@example\.com\r\nAction: failed\r\nStatus: 5\.1\.1\r\nDiagnostic-Code: smtp; 550 5\.1\.1 r2: no such mailbox/);
  t.notMatch(d, /Final-Recipient: rfc822; r[13]@/, 'only the refused recipient');
  t.match(d, /refused by the outbound mail service/);
});

t.test('the 2nd of 3 copies refused permanently and the DSN not taken: 451 partial; the retry goes to r2 only', async (t) => {
  let fixed = false;
  const { sink, send, gw } = await setup(t, async (_n, env) => {
    if (env.from === '') return { code: 550, text: '5.7.1 no null sender here' };
    return env.to[0] === 'r2@example.com' && !fixed ? { code: 550, text: '5.1.1 r2: no such mailbox' } : null;
  });
  const r = await send('perm-2');
  t.notOk(r.ok, 'not acknowledged: nobody would learn of the refusal');
  t.match(!r.ok && r.response, /^451 4\.4\.1 GW_ERR_SMTP_UPSTREAM_PARTIAL: Upstream 127\.0\.0\.1:\d+ took the message for 2 of 3 recipients, not for the others \(550 5\.1\.1 r2: no such mailbox\); retry the same message/);
  t.equal(gw.app.smtpRelay!.copies.size, 1, 'who has it is remembered');
  fixed = true;
  const again = await send('perm-2');
  t.match(again.ok && again.response, /^250 2\.6\.0 Ok: forwarded to 3 of 3 recipients \(2 on an earlier attempt\)/);
  for (const rc of RCPTS) t.equal(copiesTo(sink.messages, rc).length, 1, `${rc}: exactly one copy over both attempts`);
  t.equal(gw.app.smtpRelay!.copies.size, 0, 'forgotten once every recipient has it');
});

t.test('the 2nd of 3 copies deferred (4xx) past the retries: 451 partial; the client retry delivers exactly once each', async (t) => {
  let down = true;
  let r2Attempts = 0;
  const { sink, send } = await setup(t, async (_n, env) => {
    if (env.to[0] !== 'r2@example.com') return null;
    r2Attempts++;
    return down ? { code: 451, text: '4.3.0 r2 mailbox busy' } : null;
  });
  const r = await send('temp-1');
  t.notOk(r.ok);
  t.equal(!r.ok && r.code, 451);
  t.match(!r.ok && r.response, /GW_ERR_SMTP_UPSTREAM_PARTIAL: .* took the message for 2 of 3 recipients, not for the others \(451 4\.3\.0 r2 mailbox busy\)/);
  t.equal(r2Attempts, 3, 'the deferred copy was tried 1 + upstream.retries (2) times');
  t.equal(copiesTo(sink.messages, 'r2@example.com').length, 0);
  down = false;
  const again = await send('temp-1');
  t.match(again.ok && again.response, /^250 2\.6\.0 Ok: forwarded to 3 of 3 recipients \(2 on an earlier attempt\)/);
  for (const rc of RCPTS) t.equal(copiesTo(sink.messages, rc).length, 1, `${rc}: exactly once`);
  const other = await send('temp-1 changed');
  t.match(other.ok && other.response, /^250 2\.6\.0 Ok: forwarded to 3 of 3 recipients(?! \()/, 'other bytes are another message: sent to all');
  for (const rc of RCPTS) t.equal(copiesTo(sink.messages, rc).length, 2, `${rc}: its copy of the other message too`);
});

t.test('a copy deferred once and taken on its retry: 250, every recipient once', async (t) => {
  let failures = 1;
  const { sink, send } = await setup(t, async (_n, env) => (env.to[0] === 'r2@example.com' && failures-- > 0 ? { code: 421, text: '4.4.2 try again' } : null));
  const r = await send('temp-2');
  t.match(r.ok && r.response, /^250 2\.6\.0 Ok: forwarded to 3 of 3 recipients(?! \()/);
  for (const rc of RCPTS) t.equal(copiesTo(sink.messages, rc).length, 1, `${rc}: once`);
});

t.test('one transaction (listUnsubscribe keep): RCPT of r2 deferred by the upstream → 451 partial; the retry goes to r2 only', async (t) => {
  let down = true;
  const { sink, send } = await setup(t, async () => null, (a) => (a === 'r2@example.com' && down ? { code: 450, text: '4.2.1 r2 try later' } : null), { listUnsubscribe: 'keep' });
  const r = await send('one-tx');
  t.match(!r.ok && r.response, /^451 4\.4\.1 GW_ERR_SMTP_UPSTREAM_PARTIAL: .* 2 of 3 recipients.*450 4\.2\.1 r2 try later/);
  t.same(sink.messages.map((m) => m.to), [['r1@example.com', 'r3@example.com']], 'one transaction to the two it took');
  down = false;
  const again = await send('one-tx');
  t.match(again.ok && again.response, /forwarded to 3 of 3 recipients \(2 on an earlier attempt\)/);
  t.same(sink.messages.map((m) => m.to), [['r1@example.com', 'r3@example.com'], ['r2@example.com']], 'the retry carried r2 alone');
  t.equal(sink.messages[0]!.raw.toString(), sink.messages[1]!.raw.toString(), 'the same bytes');
});

t.test('null envelope sender, a copy refused permanently: no DSN may go, so the upstream 5xx is relayed naming the partial delivery', async (t) => {
  const { sink, send } = await setup(t, async (_n, env) => (env.to[0] === 'r2@example.com' ? { code: 550, text: '5.1.1 r2: no such mailbox' } : null));
  const r = await send('null-sender', '');
  t.notOk(r.ok);
  t.equal(!r.ok && r.code, 550);
  t.match(!r.ok && r.response, /^550 5\.1\.1 GW_ERR_SMTP_UPSTREAM_REFUSED: .*\(taken for 2 of 3 recipients; the null sender gets no DSN\)/);
  t.equal(sink.messages.length, 2, 'r1 and r3 have it, no DSN');
});
