/**
 * The FastAGI pre-dial hook (issue 19) driven over real sockets by a client speaking FastAGI the
 * way Asterisk does (res_agi.c): environment block, blank line, then `200 result=` replies to each
 * command. Decisions go through the gateway's one screening (buildApp with config `agi`).
 */
import t from 'tap';
import { connect } from 'node:net';
import type { Movement } from '../../src/domain/types.ts';
import { AgiServer } from '../../src/transports/agi/server.ts';
import { agiSchema } from '../../src/transports/agi/config.ts';
import { parseReply, setVariable } from '../../src/transports/agi/protocol.ts';
import { makeGateway } from '../helpers/gateway.ts';

const BRAND = 600001;
const mv = (recipient: string, status: 'ONAY' | 'RET', over: Partial<Movement> = {}): Movement => ({
  brandCode: BRAND, recipientType: 'BIREYSEL', type: 'ARAMA', recipient, status, source: 'HS_CAGRI_MERKEZI',
  consentDate: '2026-01-05 10:00:00', creationDate: '2026-01-05 10:00:05', transactionId: null, noncanonical: false, ...over,
});

interface Channel { vars: Record<string, string>; commands: string[]; closedMs: number }

/**
 * One channel's AGI call as Asterisk makes it. `env` lines are sent as given (`raw` instead for
 * hostile input); every SET VARIABLE is answered `200 result=1` (or `hangupAfter` commands, then HANGUP).
 */
function channel(port: number, env: Record<string, string> | null, opts: { raw?: string; hangupAfter?: number; silent?: boolean } = {}): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = connect(port, '127.0.0.1');
    const vars: Record<string, string> = {};
    const commands: string[] = [];
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      if (opts.silent) return;
      sock.write(opts.raw ?? Object.entries(env!).map(([k, v]) => `${k}: ${v}\n`).join('') + '\n');
    });
    sock.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, i); buf = buf.slice(i + 1);
        commands.push(line);
        const m = /^SET VARIABLE (\S+) "((?:[^"\\]|\\.)*)"$/.exec(line);
        if (m) vars[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
        if (opts.hangupAfter !== undefined && commands.length > opts.hangupAfter) { sock.write('HANGUP\n'); continue; }
        sock.write(m ? '200 result=1\n' : '510 Invalid or unknown command\n');
      }
    });
    sock.on('error', reject);
    sock.on('close', () => resolve({ vars, commands, closedMs: performance.now() - t0 }));
  });
}

/** Asterisk's environment for a dialplan `AGI(agi://127.0.0.1:<port>/<script>)` on extension `exten`. */
function envFor(port: number, script: string, exten: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    agi_network: 'yes', agi_network_script: script, agi_request: `agi://127.0.0.1:${port}/${script}`,
    agi_channel: 'PJSIP/1001-00000001', agi_language: 'tr', agi_type: 'PJSIP', agi_uniqueid: '1700000000.1', agi_version: '20.5.0',
    agi_callerid: '1001', agi_calleridname: 'Agent', agi_callingpres: '0', agi_callingani2: '0', agi_callington: '0', agi_callingtns: '0',
    agi_dnid: exten, agi_rdnis: 'unknown', agi_context: 'from-internal', agi_extension: exten, agi_priority: '1', agi_enhanced: '0.0',
    agi_accountcode: '', agi_threadid: '140000000000000', ...extra,
  };
}

async function gatewayWithAgi(t: Parameters<typeof makeGateway>[0], agi: Record<string, unknown> = {}) {
  const gw = await makeGateway(t, { agi: { port: 0, brandCode: BRAND, brandCodes: [BRAND, BRAND + 1], ...agi } as never });
  await gw.store.apply([mv('+905550000001', 'ONAY'), mv('+905550000002', 'RET'), mv('+905550000005', 'ONAY', { type: 'MESAJ' }),
    mv('+905550000006', 'RET', { recipientType: 'TACIR' })]);
  await gw.app.decisions?.ready(); // as serve() does: the decision log's writer is up before the first channel
  const port = await gw.app.agi!.listen();
  return { gw, port };
}

t.test('decisions set on the channel: ONAY, RET, none, SMS-only consent, TACIR, informational', async (t) => {
  const { port, gw } = await gatewayWithAgi(t);
  const cases: Array<[string, string, string, string]> = [
    ['check', '05550000001', 'ALLOW', 'CONSENT_ONAY'],
    ['check?type=ARAMA', '05550000002', 'BLOCK', 'CONSENT_RET'],
    ['check', '05550000003', 'BLOCK', 'NO_CONSENT'],
    ['check', '05550000005', 'BLOCK', 'NO_CONSENT'], // an SMS consent is not a call consent
    ['check?recipientType=TACIR', '05550000004', 'ALLOW', 'TACIR_NOT_REJECTED'],
    ['check?recipientType=TACIR', '05550000006', 'BLOCK', 'CONSENT_RET'],
    ['check?messageType=BILGILENDIRME', '05550000002', 'ALLOW', 'INFORMATIONAL_EXEMPT'],
    ['check', '+90 555 000 00 01', 'ALLOW', 'CONSENT_ONAY'],
    ['check', '0555', 'BLOCK', 'INVALID_RECIPIENT'],
  ];
  for (const [script, exten, decision, reason] of cases) {
    const c = await channel(port, envFor(port, script, exten));
    t.equal(c.vars.IYSGATE_DECISION, decision, `${script} ${exten}`);
    t.equal(c.vars.IYSGATE_REASON, reason, `${script} ${exten}: reason`);
    if (gw.app.decisions) t.match(c.vars.IYSGATE_DECISION_ID ?? '', /\S/, 'the decision id is on the channel');
  }
  // the reasons came from the same policy as /v1/check
  const api = await gw.call('POST', '/v1/check', { brandCode: BRAND, recipient: '05550000002', type: 'ARAMA', recipientType: 'BIREYSEL', messageType: 'TICARI' });
  t.equal(api.body.reason, 'CONSENT_RET');
  const metrics = await gw.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${gw.config.apiKeys[0]?.key ?? ''}` } });
  if (metrics.statusCode === 200) t.match(metrics.body, /iysgate_agi_sessions_total\{decision="BLOCK",reason="CONSENT_RET"\} 2/);
  t.notOk(gw.logs.join('').includes('5550000002'), 'no number in the logs');
});

t.test('where the number is read: ?number=, agi_arg_1, agi_extension, agi_dnid; brand from ?brand=', async (t) => {
  const { port } = await gatewayWithAgi(t);
  t.equal((await channel(port, envFor(port, 'check?number=05550000001', 's'))).vars.IYSGATE_DECISION, 'ALLOW', 'query');
  t.equal((await channel(port, envFor(port, 'check', 's', { agi_arg_1: '05550000002' }))).vars.IYSGATE_REASON, 'CONSENT_RET', 'argument');
  t.equal((await channel(port, envFor(port, 'check', 's', { agi_dnid: '05550000001' }))).vars.IYSGATE_DECISION, 'ALLOW', 'extension `s` is not a number: the DNID is');
  const noNumber = await channel(port, envFor(port, 'check', 's', { agi_dnid: 'unknown' }));
  t.same([noNumber.vars.IYSGATE_DECISION, noNumber.vars.IYSGATE_REASON], ['BLOCK', 'GW_ERR_AGI_BAD_REQUEST']);
  t.same((await channel(port, envFor(port, `check?brand=${BRAND + 1}`, '05550000001'))).vars.IYSGATE_REASON, 'NO_CONSENT', 'another allowed brand: its own records');
  const unknown = await channel(port, envFor(port, 'check?brand=999999', '05550000001'));
  t.same([unknown.vars.IYSGATE_DECISION, unknown.vars.IYSGATE_REASON], ['BLOCK', 'GW_ERR_UNKNOWN_BRAND']);
});

t.test('malformed environments and hostile peers: BLOCK or closed, never a crash, other channels unaffected', async (t) => {
  const { port } = await gatewayWithAgi(t, { ioTimeoutMs: 300 });
  const bad: Array<[string, string]> = [
    ['garbage line', 'GET / HTTP/1.1\nHost: x\n\n'],
    ['no request', 'agi_channel: PJSIP/1\nagi_extension: 05550000001\n\n'],
    ['name twice', `agi_request: agi://x/check\nagi_extension: 05550000001\nagi_extension: 05550000002\n\n`],
    ['unknown script', `agi_network_script: delete\nagi_extension: 05550000001\n\n`],
    ['bad type', `agi_network_script: check?type=EPOSTA\nagi_extension: 05550000001\n\n`],
    ['bad messageType', `agi_network_script: check?messageType=KAMPANYA\nagi_extension: 05550000001\n\n`],
    ['too many lines', Array.from({ length: 200 }, (_x, i) => `agi_x${i}: 1\n`).join('') + '\n'],
  ];
  for (const [name, raw] of bad) {
    const c = await channel(port, null, { raw });
    t.same([c.vars.IYSGATE_DECISION, c.vars.IYSGATE_REASON], ['BLOCK', 'GW_ERR_AGI_BAD_REQUEST'], name);
  }
  const long = await channel(port, null, { raw: 'agi_request: ' + 'x'.repeat(100_000) + '\n\n' });
  t.notOk(long.vars.IYSGATE_DECISION === 'ALLOW', 'an overlong line is never an ALLOW');
  const silent = await channel(port, null, { silent: true });
  t.ok(silent.closedMs < 3_000, `a peer that sends nothing is closed after ioTimeoutMs (${Math.round(silent.closedMs)} ms)`);
  t.same(silent.vars, {});
  const hung = await channel(port, envFor(port, 'check', '05550000001'), { hangupAfter: 0 });
  t.equal(hung.commands.length, 1, 'after HANGUP no further command is sent');
  t.equal((await channel(port, envFor(port, 'check', '05550000001'))).vars.IYSGATE_DECISION, 'ALLOW', 'the server still answers');
});

t.test('a store that cannot answer in time: BLOCK STORE_UNAVAILABLE within decisionTimeoutMs', async (t) => {
  const cfg = agiSchema.parse({ port: 0, brandCode: BRAND, decisionTimeoutMs: 150 });
  const hang = new AgiServer({ config: cfg, decide: () => new Promise(() => {}) });
  const fail = new AgiServer({ config: cfg, decide: () => Promise.reject(new Error('store down')) });
  const ports = [await hang.listen(), await fail.listen()];
  t.teardown(async () => { await hang.close(); await fail.close(); });
  for (const port of ports) {
    const c = await channel(port, envFor(port, 'check', '05550000001'));
    t.same([c.vars.IYSGATE_DECISION, c.vars.IYSGATE_REASON], ['BLOCK', 'STORE_UNAVAILABLE']);
    t.ok(c.closedMs < 2_000, `answered in ${Math.round(c.closedMs)} ms`);
  }
  // and through the real screening on a store that fails (reads throw, async reads never answer)
  const { gw, port } = await gatewayWithAgi(t);
  const down = gw.store as unknown as Record<string, unknown>;
  down.getSync = () => { throw new Error('store down'); };
  down.peekMany = () => { throw new Error('store down'); };
  down.getMany = () => new Promise(() => {});
  down.getPolicyMany = () => new Promise(() => {});
  const c = await channel(port, envFor(port, 'check', '05550000001'));
  t.same([c.vars.IYSGATE_DECISION, c.vars.IYSGATE_REASON], ['BLOCK', 'STORE_UNAVAILABLE']);
});

t.test('many concurrent channels each get their own answer; past maxConnections: BLOCK GW_ERR_AGI_BUSY', async (t) => {
  const { port } = await gatewayWithAgi(t);
  const n = 400;
  const got = await Promise.all(Array.from({ length: n }, (_x, i) => channel(port, envFor(port, 'check', i % 2 === 0 ? '05550000001' : '05550000002'))));
  t.equal(got.filter((c, i) => c.vars.IYSGATE_DECISION === (i % 2 === 0 ? 'ALLOW' : 'BLOCK')).length, n, `${n} channels, each decided on its own number`);
  const cfg = agiSchema.parse({ port: 0, brandCode: BRAND, maxConnections: 1 });
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const busy = new AgiServer({ config: cfg, decide: async () => { await gate; return { decision: 'ALLOW', reason: 'CONSENT_ONAY' }; } });
  const p = await busy.listen();
  t.teardown(() => busy.close());
  const first = channel(p, envFor(p, 'check', '05550000001'));
  while (busy.sessions < 1) await new Promise((r) => setImmediate(r));
  const second = await channel(p, envFor(p, 'check', '05550000001'));
  t.same([second.vars.IYSGATE_DECISION, second.vars.IYSGATE_REASON], ['BLOCK', 'GW_ERR_AGI_BUSY']);
  release();
  t.equal((await first).vars.IYSGATE_DECISION, 'ALLOW');
});

t.test('protocol units: values quoted and escaped, replies read', async (t) => {
  t.equal(setVariable('X', 'a"b\\c\nSET VARIABLE Y 1'), 'SET VARIABLE X "a\\"b\\\\c SET VARIABLE Y 1"\n', 'a value can never end the command or start another');
  t.same(parseReply('200 result=1'), { code: 200, result: '1' });
  t.same(parseReply('511 Command Not Permitted on a dead channel or intercept routine'), { code: 511, result: null });
  t.equal(parseReply('520-Invalid command syntax.  Proper usage follows:'), null);
  t.same(parseReply('520 End of proper usage.'), { code: 520, result: null });
});
