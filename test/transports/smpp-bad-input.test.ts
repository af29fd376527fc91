/**
 * SMPP front, bad input over raw sockets: lying lengths, missing NUL terminators, absurd sm_length,
 * unknown TLVs (forwarded unchanged), a 64 KB command_length, unknown commands, a flood past the
 * bind's throughput limit, submits before a bind. Every case gets a coded SMPP response, the gate
 * does not crash and the other binds keep working.
 */
import { connect, type Socket } from 'node:net';
import t from 'tap';
import smpp from 'smpp';
import { FrameReader } from '../../src/transports/smpp/pdu.ts';
import { boundEsme, rawOf, startGate, startStubSmsc, until, withoutSeq } from './smpp-harness.ts';

const E = smpp.errors as Record<string, number>;
const ONAY = '905321110001';

/** A raw TCP client reading whole PDUs back. */
async function rawClient(t: { teardown(fn: () => unknown): void }, port: number) {
  const socket: Socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  t.teardown(() => { socket.destroy(); });
  const got: Buffer[] = [];
  let waiters: (() => void)[] = [];
  const reader = new FrameReader(1 << 20, (p) => { got.push(Buffer.from(p)); for (const w of waiters.splice(0)) w(); }, () => {});
  socket.on('data', (c: Buffer) => reader.push(c));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  /** Writes bytes and resolves with the next PDU read. */
  const ask = async (bytes: Buffer): Promise<Buffer> => {
    const n = got.length;
    socket.write(bytes);
    while (got.length <= n) await new Promise<void>((r) => waiters.push(r));
    return got[n]!;
  };
  return { socket, got, ask, closed };
}
const status = (b: Buffer) => b.readUInt32BE(8);
const cmd = (b: Buffer) => b.readUInt32BE(4);
const pdu = (command: string, fields: Record<string, unknown>, seq = 1) => { const p = new smpp.PDU(command, { ...fields, sequence_number: seq }).toBuffer(); return p; };

async function bound(t: { teardown(fn: () => unknown): void }, port: number, systemId = 'esme1', password = 'secret1') {
  const c = await rawClient(t, port);
  const r = await c.ask(pdu('bind_transceiver', { system_id: systemId, password }));
  if (status(r) !== 0) throw new Error('bind failed');
  return c;
}

t.test('malformed PDUs get coded answers; the connection and the other binds keep working', async (t) => {
  const stub = await startStubSmsc(t);
  const gate = await startGate(t, stub.url, { binds: [
    { systemId: 'esme1', password: 'secret1', brandCode: 610001, upstream: 'stub' },
    { systemId: 'flood', password: 'secret3', brandCode: 610001, upstream: 'stub', throughputPerSecond: 5 },
  ] });
  await gate.seed([{ recipient: '+' + ONAY, status: 'ONAY' }]);
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  const other = await boundEsme(t, gate.port);
  const c = await bound(t, gate.port);
  const good = pdu('submit_sm', { dest_addr_ton: 1, destination_addr: ONAY, short_message: 'merhaba' }, 2);

  // sm_length says 200, the PDU holds 7 bytes of text
  const smLen = Buffer.from(good); smLen[good.length - 8] = 200;
  t.equal(status(await c.ask(smLen)), E.ESME_RINVMSGLEN, 'absurd sm_length');
  // destination_addr without its NUL (22 digits run into the next fields)
  const noNul = Buffer.concat([good.subarray(0, 16), Buffer.from([0, 1, 1]), Buffer.from('A'.repeat(5)), Buffer.from([0]), Buffer.from([1, 1]), Buffer.from('9'.repeat(40))]);
  noNul.writeUInt32BE(noNul.length, 0);
  t.equal(status(await c.ask(noNul)), E.ESME_RINVCMDLEN, 'destination_addr without a NUL terminator');
  // command_length shorter than the fields (the PDU stops inside source_addr)
  const short = Buffer.from(good.subarray(0, 20)); short.writeUInt32BE(20, 0);
  t.equal(status(await c.ask(short)), E.ESME_RINVCMDLEN, 'command_length cuts the fields');
  // a TLV whose length runs past the PDU
  const badTlv = Buffer.concat([good, Buffer.from([0x15, 0x00, 0x00, 0x10, 0x01])]); badTlv.writeUInt32BE(badTlv.length, 0);
  t.equal(status(await c.ask(badTlv)), E.ESME_RINVTLVLEN, 'TLV length lying');
  // a UDH whose length runs past the message
  const udh = pdu('submit_sm', { dest_addr_ton: 1, destination_addr: ONAY, esm_class: 0x40, short_message: Buffer.from([0x20, 0x00, 0x03]) }, 3);
  t.equal(status(await c.ask(udh)), E.ESME_RINVMSGLEN, 'UDH length lying');
  // unknown command id
  const unknown = Buffer.alloc(16); unknown.writeUInt32BE(16, 0); unknown.writeUInt32BE(0x00000999, 4); unknown.writeUInt32BE(9, 12);
  const nack = await c.ask(unknown);
  t.same([cmd(nack), status(nack), nack.readUInt32BE(12)], [0x80000000, E.ESME_RINVCMDID, 9], 'generic_nack with the same sequence number');
  // an unknown TLV is forwarded unchanged
  const withTlv = Buffer.concat([good, Buffer.from([0x15, 0x00, 0x00, 0x03, 0x61, 0x62, 0x63])]); withTlv.writeUInt32BE(withTlv.length, 0); withTlv.writeUInt32BE(7, 12);
  const ok = await c.ask(withTlv);
  t.equal(status(ok), 0, 'unknown TLV: allowed');
  t.same(withoutSeq(rawOf(stub.submits.at(-1)!)), withoutSeq(withTlv), 'forwarded byte for byte, the unknown TLV included');
  t.equal(stub.submits.length, 1, 'nothing malformed reached the stub');
  // a 64 KB command_length: generic_nack and the connection closes
  const huge = Buffer.alloc(16); huge.writeUInt32BE(65_536, 0); huge.writeUInt32BE(0x00000004, 4); huge.writeUInt32BE(11, 12);
  const hugeNack = await c.ask(huge);
  t.same([cmd(hugeNack), status(hugeNack)], [0x80000000, E.ESME_RINVCMDLEN]);
  await c.closed;
  t.equal((await other.call('submit_sm', { dest_addr_ton: 1, destination_addr: ONAY, short_message: 'x' })).command_status, 0, 'the other bind is unaffected');

  // submit before bind
  const fresh = await rawClient(t, gate.port);
  t.equal(status(await fresh.ask(good)), E.ESME_RINVBNDSTS, 'submit before bind');
  // a flood past throughputPerSecond = 5
  const f = await bound(t, gate.port, 'flood', 'secret3');
  const answers: Buffer[] = [];
  const before = f.got.length;
  for (let i = 0; i < 20; i++) { const p = Buffer.from(good); p.writeUInt32BE(100 + i, 12); f.socket.write(p); }
  await until(() => f.got.length - before >= 20, 5_000, 'flood answers');
  answers.push(...f.got.slice(before));
  const throttled = answers.filter((a) => status(a) === E.ESME_RTHROTTLED).length;
  t.ok(throttled >= 10, `past the limit: ESME_RTHROTTLED (${throttled} of 20)`);
  t.equal(answers.filter((a) => status(a) === 0).length + throttled, 20, 'the rest forwarded');
  t.equal((await other.call('submit_sm', { dest_addr_ton: 1, destination_addr: ONAY, short_message: 'x' })).command_status, 0, 'other binds are not throttled');
  const m = await gate.registry.metrics();
  t.match(m, /iysgate_smpp_pdus_total\{command="submit_sm",outcome="malformed"\} [1-9]/);
  t.match(m, /iysgate_smpp_pdus_total\{command="submit_sm",outcome="throttled"\} [1-9]/);
});

t.test('a wrong bind answers nothing else and the gate serves the next connection', async (t) => {
  const stub = await startStubSmsc(t);
  const gate = await startGate(t, stub.url);
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  for (let i = 0; i < 5; i++) {
    const c = await rawClient(t, gate.port);
    const r = await c.ask(pdu('bind_transmitter', { system_id: 'esme1', password: `bad${i}` }));
    t.equal(status(r), E.ESME_RINVPASWD);
    t.equal(r.length, 17, 'an empty system_id: nothing revealed');
  }
  const garbage = await rawClient(t, gate.port);
  const bind = pdu('bind_transceiver', { system_id: 'esme1', password: 'secret1' });
  const cut = Buffer.from(bind.subarray(0, 18)); cut.writeUInt32BE(18, 0); // system_id without NUL
  const r = await garbage.ask(cut);
  t.not(status(r), 0, 'a malformed bind is refused');
  const e = await boundEsme(t, gate.port);
  t.equal((await e.call('enquire_link')).command_status, 0, 'binds still work');
});
