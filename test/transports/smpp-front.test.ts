/**
 * SMPP front, real sockets: ESMEs built with the `smpp` package → iys-gate (SmppFront) → a stub
 * SMSC (the same package's server on port 0). The stub must receive exactly the allowed PDUs,
 * byte for byte but for the sequence number; the ESME gets the stub's message ids or the
 * configured errors.
 */
import t from 'tap';
import smpp, { type PDU } from 'smpp';
import { boundEsme, connectEsme, rawOf, startGate, startStubSmsc, until, withoutSeq } from './smpp-harness.ts';

const E = smpp.errors as Record<string, number>;
const ONAY = '905321110001';
const RET = '905321110002';
const NONE = '905321110003';
const LANDLINE = '902122223344';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const stub = await startStubSmsc(t);
  const gate = await startGate(t, stub.url);
  await gate.seed([{ recipient: '+' + ONAY, status: 'ONAY' }, { recipient: '+' + RET, status: 'RET' }]);
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  return { stub, gate };
}

/** The bytes the ESME wrote for the submit with this sequence number. */
function sentPdu(sent: Buffer[], seq: number): Buffer {
  const b = sent.find((x) => x.length >= 16 && x.readUInt32BE(12) === seq && (x.readUInt32BE(4) & 0x80000000) === 0);
  if (!b) throw new Error(`no PDU ${seq} written`);
  return b;
}

const intl = (addr: string, extra: Record<string, unknown> = {}) => ({
  source_addr_ton: 5, source_addr_npi: 0, source_addr: 'IYSGATE', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: addr, ...extra,
});

t.test('binds: wrong password ESME_RINVPASWD, unknown system_id ESME_RINVSYSID, the right one binds', async (t) => {
  const { gate } = await setup(t);
  const a = await connectEsme(t, gate.port);
  t.equal((await a.call('bind_transceiver', { system_id: 'esme1', password: 'nope' })).command_status, E.ESME_RINVPASWD);
  const b = await connectEsme(t, gate.port);
  t.equal((await b.call('bind_transmitter', { system_id: 'ghost', password: 'secret1' })).command_status, E.ESME_RINVSYSID);
  const c = await connectEsme(t, gate.port);
  const ok = await c.call('bind_transceiver', { system_id: 'esme1', password: 'secret1' });
  t.equal(ok.command_status, 0);
  t.equal(ok.system_id, 'iys-gate', 'nothing about the upstream is revealed');
  t.equal((await c.call('enquire_link')).command_status, 0, 'enquire_link answered');
  t.equal((await c.call('query_sm', { message_id: 'x', source_addr: 'A' })).command_status, E.ESME_RINVCMDID, 'a command the gate does not serve');
  t.equal((await c.call('unbind')).command_status, 0, 'unbind answered');
});

t.test('submit_sm: ONAY forwarded byte-identical with the stub\'s message_id; RET, none, landline refused; nothing refused reaches the stub', async (t) => {
  const { stub, gate } = await setup(t);
  const e = await boundEsme(t, gate.port);
  const ok = await e.call('submit_sm', intl(ONAY, { short_message: 'Yeni sezon kampanyamız başladı', registered_delivery: 1 }));
  t.equal(ok.command_status, 0);
  t.equal(ok.message_id, 'stub-1', 'the upstream\'s message_id');
  t.equal(stub.submits.length, 1);
  t.same(withoutSeq(rawOf(stub.submits[0]!)), withoutSeq(sentPdu(e.sent, ok.sequence_number)), 'the stub got the ESME\'s bytes (sequence number aside)');
  for (const [addr, status, what] of [[RET, E.ESME_RX_R_APPN, 'RET'], [NONE, E.ESME_RX_R_APPN, 'no record'], [LANDLINE, E.ESME_RX_R_APPN, 'landline']] as const) {
    const r = await e.call('submit_sm', intl(addr, { short_message: 'Yeni sezon kampanyamız başladı' }));
    t.equal(r.command_status, status, `${what}: the configured blocked status`);
  }
  const national = await e.call('submit_sm', { dest_addr_ton: 2, dest_addr_npi: 1, destination_addr: '0' + ONAY.slice(2), short_message: 'x' });
  t.equal(national.command_status, 0, 'a national 0532… address is the same recipient');
  const unknownPlus = await e.call('submit_sm', { dest_addr_ton: 0, destination_addr: '+' + ONAY, short_message: 'x' });
  t.equal(unknownPlus.command_status, 0, 'TON unknown with +');
  const unknown00 = await e.call('submit_sm', { dest_addr_ton: 0, destination_addr: '00' + RET, short_message: 'x' });
  t.equal(unknown00.command_status, E.ESME_RX_R_APPN, 'TON unknown with 00: the RET recipient');
  const bad = await e.call('submit_sm', { dest_addr_ton: 0, destination_addr: '12', short_message: 'x' });
  t.equal(bad.command_status, E.ESME_RINVDSTADR, 'an address that cannot be normalized');
  t.equal(stub.submits.length, 3, 'only the allowed submits reached the stub');
  const m = await gate.registry.metrics();
  t.match(m, /iysgate_smpp_pdus_total\{command="submit_sm",outcome="forwarded"\} 3/);
  t.match(m, /iysgate_smpp_pdus_total\{command="submit_sm",outcome="blocked"\} 5/);
  t.match(m, /iysgate_smpp_binds\{system_id="esme1",mode="transceiver"\} 1/);
  t.notMatch(gate.logs.join(''), new RegExp(ONAY.slice(2)), 'no number in the logs');
});

t.test('informational text that reads as promotional is treated as commercial; plain informational passes', async (t) => {
  const { stub, gate } = await setup(t);
  const e = await boundEsme(t, gate.port, 'info1', 'secret2');
  const promo = await e.call('submit_sm', intl(NONE, { short_message: 'Tüm ürünlerde %50 indirim fırsatı, kaçırmayın!' }));
  t.equal(promo.command_status, E.ESME_RX_R_APPN, 'promotional BILGILENDIRME to a recipient without consent: blocked');
  const promoOnay = await e.call('submit_sm', intl(ONAY, { short_message: 'Tüm ürünlerde %50 indirim fırsatı, kaçırmayın!' }));
  t.equal(promoOnay.command_status, 0, 'the same text to an ONAY recipient goes (checked as TICARI)');
  const info = await e.call('submit_sm', intl(NONE, { short_message: 'Siparişiniz kargoya verildi, takip no 123' }));
  t.equal(info.command_status, 0, 'informational to anyone');
  t.equal(stub.submits.length, 2);
});

/** UCS-2 bytes of a text. */
const ucs2 = (s: string) => Buffer.from(s, 'utf16le').swap16();
/** A UDH with an 8-bit concatenation IE. */
const concat8 = (ref: number, total: number, seq: number) => Buffer.from([0x05, 0x00, 0x03, ref, total, seq]);

t.test('a 3-part UCS-2 concatenated message with a promotion only in part 3: every part refused; a clean one forwarded in order, byte-identical', async (t) => {
  const { stub, gate } = await setup(t);
  const e = await boundEsme(t, gate.port, 'info1', 'secret2');
  const texts = ['Sayın müşterimiz, hesap ekstreniz ', 'hazırlanmıştır, son ödeme tarihi ', 'ayın 15\'idir. Şimdi %50 indirim kampanyası!'];
  const parts = texts.map((x, i) => e.call('submit_sm', intl(NONE, { esm_class: 0x40, data_coding: 8, short_message: Buffer.concat([concat8(7, 3, i + 1), ucs2(x)]) })));
  const rs = await Promise.all(parts);
  t.same(rs.map((r) => r.command_status), [E.ESME_RX_R_APPN, E.ESME_RX_R_APPN, E.ESME_RX_R_APPN], 'one decision for all parts');
  t.equal(stub.submits.length, 0, 'no part reached the stub');
  const clean = ['Sayın müşterimiz, hesap ekstreniz ', 'hazırlanmıştır, son ödeme tarihi ', 'ayın 15\'idir.'];
  const rs2 = await Promise.all(clean.map((x, i) => e.call('submit_sm', intl(NONE, { esm_class: 0x40, data_coding: 8, short_message: Buffer.concat([concat8(8, 3, i + 1), ucs2(x)]) }))));
  t.same(rs2.map((r) => r.command_status), [0, 0, 0]);
  t.same(rs2.map((r) => r.message_id).sort(), ['stub-1', 'stub-2', 'stub-3']);
  t.equal(stub.submits.length, 3);
  for (let i = 0; i < 3; i++) {
    t.same(withoutSeq(rawOf(stub.submits[i]!)), withoutSeq(sentPdu(e.sent, rs2[i]!.sequence_number)), `part ${i + 1} byte-identical, in order`);
  }
  // parts sent out of order, 16-bit reference: held until complete, forwarded in part order
  const u16 = (seq: number) => Buffer.from([0x06, 0x08, 0x04, 0x12, 0x34, 2, seq]);
  const [b, a] = await Promise.all([
    e.call('submit_sm', intl(NONE, { esm_class: 0x40, data_coding: 8, short_message: Buffer.concat([u16(2), ucs2('ikinci')]) })),
    e.call('submit_sm', intl(NONE, { esm_class: 0x40, data_coding: 8, short_message: Buffer.concat([u16(1), ucs2('birinci ')]) })),
  ]);
  t.same([a.command_status, b.command_status], [0, 0]);
  t.same(withoutSeq(rawOf(stub.submits[3]!)), withoutSeq(sentPdu(e.sent, a.sequence_number)), 'part 1 first');
  t.same(withoutSeq(rawOf(stub.submits[4]!)), withoutSeq(sentPdu(e.sent, b.sequence_number)), 'then part 2');
});

t.test('SAR TLVs concatenate like a UDH; message_payload is read', async (t) => {
  const { stub, gate } = await setup(t);
  const e = await boundEsme(t, gate.port, 'info1', 'secret2');
  const sar = (seq: number, text: string) => e.call('submit_sm', intl(NONE, { short_message: text, sar_msg_ref_num: 300, sar_total_segments: 2, sar_segment_seqnum: seq }));
  const rs = await Promise.all([sar(1, 'Hesabiniz hazir. Bu hafta tum urunlerde '), sar(2, 'yuzde elli indirim kampanyasi!')]);
  t.same(rs.map((r) => r.command_status), [E.ESME_RX_R_APPN, E.ESME_RX_R_APPN], 'the promotion spans the parts: both refused');
  const payload = await e.call('submit_sm', intl(NONE, { message_payload: 'Kampanya: bugun tum urunlerde indirim!' }));
  t.equal(payload.command_status, E.ESME_RX_R_APPN, 'the text in message_payload is linted');
  t.equal(stub.submits.length, 0);
});

t.test('GSM 7-bit text with the Turkish locking- and single-shift tables is decoded before the lint', async (t) => {
  const { stub, gate } = await setup(t);
  const e = await boundEsme(t, gate.port, 'info1', 'secret2');
  // node-smpp encodes the text with its Turkish table when the UDH carries the shift IEs
  const udh = Buffer.from([0x06, 0x24, 0x01, 0x01, 0x25, 0x01, 0x01]);
  const promo = await e.call('submit_sm', intl(NONE, { short_message: { udh, message: 'İNDİRİM fırsatı: şimdi çağrı merkezimizi arayın, güzel hediyeler' } }));
  t.equal(promo.command_status, E.ESME_RX_R_APPN, 'İNDİRİM read as indirim');
  const clean = await e.call('submit_sm', intl(NONE, { short_message: { udh, message: 'Şifreniz: 4821. Ağustos ödemeniz alındı, İyi günler' } }));
  t.equal(clean.command_status, 0);
  t.equal(stub.submits.length, 1);
  t.same(withoutSeq(rawOf(stub.submits[0]!)), withoutSeq(sentPdu(e.sent, clean.sequence_number)), 'forwarded unchanged (UDH and septets)');
  // raw data_coding 0 septets with only the locking-shift IE: 'İ'=0x40 'ş'=0x1D 'ç'=0x60 'ğ'=0x0C 'ı'=0x07
  const septets = Buffer.from([0x40, ...Buffer.from('ND'), 0x40, ...Buffer.from('R'), 0x40, ...Buffer.from('M ba'), 0x1d, 0x6c, 0x61, 0x64, 0x07]);
  const raw = await e.call('submit_sm', intl(NONE, { esm_class: 0x40, data_coding: 0, short_message: Buffer.concat([Buffer.from([0x03, 0x25, 0x01, 0x01]), septets]) }));
  t.equal(raw.command_status, E.ESME_RX_R_APPN, 'İNDİRİM başladı in locking-shift septets');
});

t.test('submit_multi: blocked destinations and distribution lists in unsuccess_sme, the rest forwarded; data_sm screened', async (t) => {
  const { stub, gate } = await setup(t);
  const e = await boundEsme(t, gate.port);
  const r = await e.call('submit_multi', {
    source_addr: 'IYSGATE', source_addr_ton: 5, short_message: 'Yeni sezon',
    dest_address: [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: ONAY }, { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: RET }, { dl_name: 'liste1' }],
  });
  t.equal(r.command_status, 0);
  t.equal(r.message_id, 'stub-1');
  const un = (r.unsuccess_sme as { destination_addr: string; error_status_code: number }[]).map((u) => [u.destination_addr, u.error_status_code]);
  t.same(un, [[RET, E.ESME_RX_R_APPN], ['liste1', E.ESME_RX_R_APPN]]);
  t.equal(stub.submits.length, 1);
  const fwd = stub.submits[0]!.dest_address as { destination_addr?: string }[];
  t.same(fwd.map((d) => d.destination_addr), [ONAY], 'only the allowed destination went upstream');
  t.equal((stub.submits[0]!.short_message as { message: string }).message, 'Yeni sezon', 'the rest of the PDU as sent');
  const none = await e.call('submit_multi', { short_message: 'x', dest_address: [{ dest_addr_ton: 1, destination_addr: RET }] });
  t.equal(none.command_status, E.ESME_RX_R_APPN, 'every destination blocked: refused, not forwarded');
  t.equal(stub.submits.length, 1);
  const dRet = await e.call('data_sm', { dest_addr_ton: 1, destination_addr: RET, message_payload: 'Kampanya' });
  t.equal(dRet.command_status, E.ESME_RX_R_APPN, 'data_sm to RET refused');
  const dOk = await e.call('data_sm', { dest_addr_ton: 1, destination_addr: ONAY, message_payload: 'Kampanya' });
  t.equal(dOk.command_status, 0, 'data_sm to ONAY forwarded');
  t.equal(dOk.message_id, 'stub-2');
  t.equal(stub.submits.length, 2);
});
