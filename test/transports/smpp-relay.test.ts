/**
 * SMPP front, real sockets: deliver_sm relay (receipts and MO to the right ESME, a receiver bound
 * later), upstream faults (down at bind, dropped mid-window, throttling, slow past the timeout),
 * an ESME unbinding with submits in flight, enquire_link timeouts on both sides, 100 binds.
 */
import t from 'tap';
import smpp, { type PDU } from 'smpp';
import { boundEsme, connectEsme, startGate, startStubSmsc, until } from './smpp-harness.ts';

const E = smpp.errors as Record<string, number>;
const ONAY = '905321110001';
const dest = (addr: string, extra: Record<string, unknown> = {}) => ({ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: addr, source_addr: 'IYSGATE', source_addr_ton: 5, short_message: 'Hafta sonu kampanyası', ...extra });

/** Collects deliver_sm an ESME receives, answering each with `status`. */
function receive(e: { session: { on(ev: string, f: (p: PDU) => void): void; send(p: PDU): boolean } }, status = 0) {
  const got: PDU[] = [];
  e.session.on('deliver_sm', (p: PDU) => { got.push(p); e.session.send(p.response({ command_status: status })); });
  return got;
}

t.test('receipts go to the ESME that submitted, MO to the upstream\'s first MO bind and to the MO handler', async (t) => {
  const stub = await startStubSmsc(t);
  const gate = await startGate(t, stub.url);
  await gate.seed([{ recipient: '+' + ONAY, status: 'ONAY' }]);
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  const a = await boundEsme(t, gate.port, 'esme1', 'secret1');
  const b = await boundEsme(t, gate.port, 'info1', 'secret2');
  const gotA = receive(a); const gotB = receive(b);
  const ra = await a.call('submit_sm', dest(ONAY, { registered_delivery: 1 }));
  const rb = await b.call('submit_sm', dest(ONAY, { short_message: 'Kargonuz yolda', registered_delivery: 1 }));
  t.same([ra.message_id, rb.message_id], ['stub-1', 'stub-2']);
  const dlr = (id: string) => ({ source_addr: ONAY, source_addr_ton: 1, destination_addr: 'IYSGATE', esm_class: 0x04, receipted_message_id: id, short_message: `id:${id} sub:001 dlvrd:001 submit date:2612011200 done date:2612011201 stat:DELIVRD err:000 text:` });
  t.equal(await stub.deliver(dlr('stub-2')), 0, 'the ESME\'s deliver_sm_resp status reaches the upstream');
  t.equal(await stub.deliver(dlr('stub-1')), 0);
  t.same(gotB.map((p) => p.receipted_message_id), ['stub-2'], 'info1\'s receipt to info1 only');
  t.same(gotA.map((p) => p.receipted_message_id), ['stub-1'], 'esme1\'s receipt to esme1 only');
  t.equal(await stub.deliver({ source_addr: ONAY, source_addr_ton: 1, destination_addr: '4545', short_message: 'RET' }), 0);
  t.equal(gotA.length, 2, 'the MO went to esme1 (first bind of the upstream)');
  t.equal((gotA[1]!.short_message as { message: string }).message, 'RET');
  t.equal(gotB.length, 1);
  t.same(gate.mos.map((m) => [m.from, m.to, m.text, m.via, m.systemId]), [['+' + ONAY, '4545', 'RET', 'stub', 'esme1']], 'the MO handler got it, sender normalizable');
});

t.test('a receiver bound later still gets what waited; an ESME refusing a deliver_sm passes its status back', async (t) => {
  const stub = await startStubSmsc(t);
  const gate = await startGate(t, stub.url);
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  const pending = stub.deliver({ source_addr: ONAY, source_addr_ton: 1, destination_addr: '4545', short_message: 'IPTAL' });
  await until(() => gate.mos.length === 1, 5_000, 'MO seen');
  const rx = await connectEsme(t, gate.port);
  const got = receive(rx, E.ESME_RX_T_APPN);
  t.equal((await rx.call('bind_receiver', { system_id: 'esme1', password: 'secret1' })).command_status, 0);
  t.equal(await pending, E.ESME_RX_T_APPN, 'the receiver\'s answer is the upstream\'s');
  t.equal(got.length, 1);
  const sub = await rx.call('submit_sm', dest(ONAY));
  t.equal(sub.command_status, E.ESME_RINVBNDSTS, 'a receiver cannot submit');
});

t.test('no receiver within deliverWaitMs: the upstream gets the temporary status', async (t) => {
  const stub = await startStubSmsc(t);
  const gate = await startGate(t, stub.url, { deliverWaitMs: 100 });
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  t.equal(await stub.deliver({ source_addr: ONAY, source_addr_ton: 1, destination_addr: '4545', short_message: 'merhaba' }), E.ESME_RX_T_APPN);
});

t.test('upstream down at bind: the ESME binds and every submit gets the temporary status at once', async (t) => {
  const stub = await startStubSmsc(t);
  await stub.close();
  const gate = await startGate(t, stub.url);
  await gate.seed([{ recipient: '+' + ONAY, status: 'ONAY' }]);
  const e = await boundEsme(t, gate.port);
  const t0 = Date.now();
  const r = await e.call('submit_sm', dest(ONAY));
  t.equal(r.command_status, E.ESME_RX_T_APPN);
  t.ok(Date.now() - t0 < 1_000, 'at once, not after a timeout');
});

t.test('upstream dropped mid-window: submits in flight get the temporary status; the pool binds again', async (t) => {
  const stub = await startStubSmsc(t);
  const gate = await startGate(t, stub.url);
  await gate.seed([{ recipient: '+' + ONAY, status: 'ONAY' }]);
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  const e = await boundEsme(t, gate.port);
  stub.state.reply = () => 'silent';
  const rs = Array.from({ length: 5 }, () => e.call('submit_sm', dest(ONAY)));
  await until(() => stub.held.length === 5, 5_000, 'submits at the stub');
  for (const s of stub.sessions) s.destroy();
  t.same((await Promise.all(rs)).map((r) => r.command_status), Array(5).fill(E.ESME_RX_T_APPN));
  stub.state.reply = () => ({ status: 0 });
  await until(() => stub.state.binds >= 2 && gate.upstreamBound(), 5_000, 'rebind');
  t.equal((await e.call('submit_sm', dest(ONAY))).command_status, 0, 'submits flow again');
});

t.test('upstream throttling and errors are passed back as they are; a slow upstream past its timeout is temporary, delivery unknown', async (t) => {
  const stub = await startStubSmsc(t);
  const gate = await startGate(t, stub.url, { upstream: { responseTimeoutMs: 150 } });
  await gate.seed([{ recipient: '+' + ONAY, status: 'ONAY' }]);
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  const e = await boundEsme(t, gate.port);
  stub.state.reply = () => ({ status: E.ESME_RTHROTTLED! });
  t.equal((await e.call('submit_sm', dest(ONAY))).command_status, E.ESME_RTHROTTLED);
  stub.state.reply = () => ({ status: E.ESME_RMSGQFUL! });
  t.equal((await e.call('submit_sm', dest(ONAY))).command_status, E.ESME_RMSGQFUL);
  stub.state.reply = () => ({ status: E.ESME_RINVSRCADR! });
  t.equal((await e.call('submit_sm', dest(ONAY))).command_status, E.ESME_RINVSRCADR);
  stub.state.reply = () => 'silent';
  t.equal((await e.call('submit_sm', dest(ONAY))).command_status, E.ESME_RX_T_APPN);
  t.match(gate.logs.join(''), /delivery unknown/);
});

t.test('an ESME unbinding with submits in flight gets every answer, then unbind_resp', async (t) => {
  const stub = await startStubSmsc(t);
  const gate = await startGate(t, stub.url);
  await gate.seed([{ recipient: '+' + ONAY, status: 'ONAY' }]);
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  const e = await boundEsme(t, gate.port);
  stub.state.reply = () => 'silent';
  const order: string[] = [];
  const rs = Array.from({ length: 3 }, () => e.call('submit_sm', dest(ONAY)).then((r) => { order.push(`submit:${r.command_status}`); return r; }));
  await until(() => stub.held.length === 3, 5_000, 'submits at the stub');
  const unbound = e.call('unbind').then((r) => { order.push(`unbind:${r.command_status}`); });
  await new Promise((r) => setImmediate(r));
  stub.answerHeld();
  await Promise.all([...rs, unbound]);
  t.same(order, ['submit:0', 'submit:0', 'submit:0', 'unbind:0']);
  await e.closed;
  t.pass('the gate closed the connection after unbind_resp');
});

t.test('enquire_link timeouts: a silent ESME is dropped; a silent upstream is re-bound', async (t) => {
  const stub = await startStubSmsc(t, { answerEnquireLink: false });
  const gate = await startGate(t, stub.url, { enquireLinkMs: 100, responseTimeoutMs: 100, upstream: { enquireLinkMs: 100, responseTimeoutMs: 100 } });
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  const e = await boundEsme(t, gate.port); // node-smpp does not answer enquire_link unless told to
  await e.closed;
  t.pass('the silent ESME was dropped');
  await until(() => stub.state.binds >= 2, 5_000, 'upstream re-bound');
  t.pass('the upstream that ignored enquire_link was dropped and bound again');
});

t.test('100 binds at once, one submit each', async (t) => {
  const stub = await startStubSmsc(t);
  const gate = await startGate(t, stub.url);
  await gate.seed([{ recipient: '+' + ONAY, status: 'ONAY' }]);
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  const esmes = await Promise.all(Array.from({ length: 100 }, () => boundEsme(t, gate.port)));
  const rs = await Promise.all(esmes.map((e) => e.call('submit_sm', dest(ONAY))));
  t.equal(rs.filter((r) => r.command_status === 0).length, 100);
  t.equal(new Set(rs.map((r) => r.message_id)).size, 100, 'each its own message id');
  t.match(await gate.registry.metrics(), /iysgate_smpp_binds\{system_id="esme1",mode="transceiver"\} 100/);
});
