/**
 * SMPP 3.4 wire helpers for the gate's hot path: framing of a byte stream into PDUs, header
 * access, hand-built responses, and a field reader for submit_sm / deliver_sm / data_sm /
 * submit_multi that never copies the PDU (offsets into the frame). Command ids, status codes and
 * TLV tags come from the `smpp` package's definitions (node-smpp lib/defs.js), so both ends of
 * the gate speak the same constants as the ESMEs built with it. Rules: SMPP v3.4 §3.2 (header),
 * §4.4 (submit_sm), §4.5 (submit_multi), §4.6 (deliver_sm), §4.7 (data_sm), §5.3 (TLVs).
 *
 * Everything here works on a Buffer holding exactly one PDU (`command_length` bytes). Parsing
 * never throws: a malformed field gives a {@link PduError} with the SMPP status to answer.
 */
import smpp from 'smpp';

const defs = smpp as unknown as {
  commands: Record<string, { id: number }>;
  errors: Record<string, number>;
};

/** command_id of a command by its node-smpp name (`submit_sm`, `bind_transceiver_resp`, …). */
export function commandId(name: string): number {
  const c = defs.commands[name];
  if (!c) throw new Error(`unknown SMPP command ${name}`);
  return c.id >>> 0;
}

/** SMPP status code by name (`ESME_RX_R_APPN` → 0x66), from node-smpp's table. */
export function statusCode(name: string): number | undefined {
  const v = defs.errors[name];
  return typeof v === 'number' ? v : undefined;
}

/** The command ids the gate handles. */
export const CMD = {
  generic_nack: commandId('generic_nack'),
  bind_receiver: commandId('bind_receiver'),
  bind_transmitter: commandId('bind_transmitter'),
  bind_transceiver: commandId('bind_transceiver'),
  bind_receiver_resp: commandId('bind_receiver_resp'),
  bind_transmitter_resp: commandId('bind_transmitter_resp'),
  bind_transceiver_resp: commandId('bind_transceiver_resp'),
  submit_sm: commandId('submit_sm'),
  submit_sm_resp: commandId('submit_sm_resp'),
  submit_multi: commandId('submit_multi'),
  submit_multi_resp: commandId('submit_multi_resp'),
  data_sm: commandId('data_sm'),
  data_sm_resp: commandId('data_sm_resp'),
  deliver_sm: commandId('deliver_sm'),
  deliver_sm_resp: commandId('deliver_sm_resp'),
  enquire_link: commandId('enquire_link'),
  enquire_link_resp: commandId('enquire_link_resp'),
  unbind: commandId('unbind'),
  unbind_resp: commandId('unbind_resp'),
} as const;

/** SMPP status codes the gate answers with (SMPP 3.4 §5.1.3). */
export const ST = {
  OK: 0,
  RINVMSGLEN: statusCode('ESME_RINVMSGLEN')!,
  RINVCMDLEN: statusCode('ESME_RINVCMDLEN')!,
  RINVCMDID: statusCode('ESME_RINVCMDID')!,
  RINVBNDSTS: statusCode('ESME_RINVBNDSTS')!,
  RALYBND: statusCode('ESME_RALYBND')!,
  RSYSERR: statusCode('ESME_RSYSERR')!,
  RINVDSTADR: statusCode('ESME_RINVDSTADR')!,
  RBINDFAIL: statusCode('ESME_RBINDFAIL')!,
  RINVPASWD: statusCode('ESME_RINVPASWD')!,
  RINVSYSID: statusCode('ESME_RINVSYSID')!,
  RMSGQFUL: statusCode('ESME_RMSGQFUL')!,
  RINVNUMDESTS: statusCode('ESME_RINVNUMDESTS')!,
  RINVDESTFLAG: statusCode('ESME_RINVDESTFLAG')!,
  RINVESMCLASS: statusCode('ESME_RINVESMCLASS')!,
  RTHROTTLED: statusCode('ESME_RTHROTTLED')!,
  RX_T_APPN: statusCode('ESME_RX_T_APPN')!,
  RX_P_APPN: statusCode('ESME_RX_P_APPN')!,
  RX_R_APPN: statusCode('ESME_RX_R_APPN')!,
  RINVTLVSTREAM: statusCode('ESME_RINVTLVSTREAM')!,
  RINVTLVLEN: statusCode('ESME_RINVTLVLEN')!,
} as const;

/** TLV tags read by the gate (SMPP 3.4 §5.3.2). */
export const TLV = {
  receipted_message_id: 0x001e,
  sar_msg_ref_num: 0x020c,
  sar_total_segments: 0x020e,
  sar_segment_seqnum: 0x020f,
  message_payload: 0x0424,
} as const;

/** Smallest PDU: the 16-byte header. */
export const HEADER_BYTES = 16;
/** The response bit of command_id. */
export const RESP_BIT = 0x80000000;

export const cmdOf = (pdu: Buffer): number => pdu.readUInt32BE(4);
export const statusOf = (pdu: Buffer): number => pdu.readUInt32BE(8);
export const seqOf = (pdu: Buffer): number => pdu.readUInt32BE(12);
export const setSeq = (pdu: Buffer, seq: number): void => { pdu.writeUInt32BE(seq >>> 0, 12); };

/** A header-only PDU (responses with an error status, enquire_link, unbind, generic_nack). */
export function headerPdu(command: number, status: number, seq: number): Buffer {
  const b = Buffer.allocUnsafe(HEADER_BYTES);
  b.writeUInt32BE(HEADER_BYTES, 0);
  b.writeUInt32BE(command >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(seq >>> 0, 12);
  return b;
}

/**
 * A response carrying one C-octet string (submit_sm_resp / data_sm_resp `message_id`, bind
 * responses' `system_id`). `id` is ASCII; an error status still carries the field (an empty id),
 * which SMPP 3.4 §4.4.2 allows and every client parses.
 */
export function cstringResp(command: number, status: number, seq: number, id: string): Buffer {
  const len = HEADER_BYTES + id.length + 1;
  const b = Buffer.allocUnsafe(len);
  b.writeUInt32BE(len, 0);
  b.writeUInt32BE(command >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(seq >>> 0, 12);
  b.write(id, HEADER_BYTES, 'latin1');
  b[len - 1] = 0;
  return b;
}

/** Splits a byte stream into PDUs. `push` returns false once the stream is unreadable. */
export class FrameReader {
  #rest: Buffer | null = null;
  #dead = false;

  /**
   * @param maxBytes largest command_length accepted (bytes); past it (or below 16) `onBad` is
   *   called with the length and the sequence number when the header holds one, and reading stops
   * @param onFrame one complete PDU (a view into the socket's chunk: copy it to keep it)
   */
  constructor(
    private readonly maxBytes: number,
    private readonly onFrame: (pdu: Buffer) => void,
    private readonly onBad: (commandLength: number, seq: number) => void,
  ) {}

  /** Feeds one chunk read from the socket. */
  push(chunk: Buffer): boolean {
    if (this.#dead) return false;
    let b = chunk;
    if (this.#rest !== null) { b = Buffer.concat([this.#rest, chunk]); this.#rest = null; }
    let off = 0;
    const n = b.length;
    while (n - off >= 4) {
      const len = b.readUInt32BE(off);
      if (len < HEADER_BYTES || len > this.maxBytes) {
        this.#dead = true;
        this.onBad(len, n - off >= HEADER_BYTES ? b.readUInt32BE(off + 12) : 0);
        return false;
      }
      if (n - off < len) break;
      this.onFrame(b.subarray(off, off + len));
      if (this.#dead) return false;
      off += len;
    }
    // keep only the tail (copied: the chunk itself is not retained by a partial PDU)
    if (off < n) this.#rest = Buffer.from(b.subarray(off));
    return true;
  }

  /** Stops reading (the connection is closing). */
  stop(): void { this.#dead = true; this.#rest = null; }
}

/** A malformed PDU: the status to answer with and a short reason (no personal data). */
export interface PduError { status: number; reason: string }

/** The fields of a short-message PDU the gate reads (offsets are into the frame). */
export interface ShortMessageFields {
  command: number;
  sourceTon: number;
  sourceNpi: number;
  sourceAddr: string;
  destTon: number;
  destNpi: number;
  destAddr: string;
  esmClass: number;
  dataCoding: number;
  registeredDelivery: number;
  /** short_message (or message_payload when sm_length is 0) location: [start, end) in the frame. */
  smStart: number;
  smEnd: number;
  /** Offset where the TLVs start. */
  tlvStart: number;
  /** True when the text came from message_payload. */
  payload: boolean;
  sarRef: number;
  sarTotal: number;
  sarSeq: number;
  /** Offset of the value of the configured message-type TLV, -1 when absent; its length. */
  typeTlvStart: number;
  typeTlvLength: number;
  receiptedId: string | null;
  /** submit_multi only: destinations as written (dest_flag 1 = SME address), in order. */
  dests: MultiDest[] | null;
}

/** One submit_multi destination: an SME address, or a distribution list name (flag 2). */
export interface MultiDest { flag: number; ton: number; npi: number; addr: string; start: number; end: number }

/** Reads a C-octet string of at most `max` bytes (incl. the NUL) at `off`; -1 when unterminated. */
function cstringEnd(b: Buffer, off: number, max: number): number {
  const lim = Math.min(b.length, off + max);
  for (let i = off; i < lim; i++) if (b[i] === 0) return i;
  return -1;
}

const bad = (status: number, reason: string): PduError => ({ status, reason });

/**
 * Reads a submit_sm, deliver_sm, data_sm or submit_multi PDU (SMPP 3.4 §4.4, §4.5, §4.6, §4.7).
 * C-octet strings must end within their SMPP maximum length; `sm_length` must fit the PDU; the
 * TLV stream must tile the rest exactly. Unknown TLVs are skipped (and forwarded unchanged).
 * @param typeTag the configured message-type TLV tag, 0 for none
 */
export function readShortMessage(b: Buffer, typeTag: number): ShortMessageFields | PduError {
  const command = cmdOf(b);
  const end = b.length;
  let o = HEADER_BYTES;
  let e = cstringEnd(b, o, 6); // service_type
  if (e < 0) return bad(ST.RINVCMDLEN, 'service_type unterminated');
  o = e + 1;
  if (o + 2 > end) return bad(ST.RINVCMDLEN, 'PDU too short');
  const sourceTon = b[o]!; const sourceNpi = b[o + 1]!; o += 2;
  e = cstringEnd(b, o, command === CMD.data_sm ? 65 : 21);
  if (e < 0) return bad(ST.RINVCMDLEN, 'source_addr unterminated');
  const sourceAddr = b.toString('latin1', o, e); o = e + 1;
  let destTon = 0, destNpi = 0, destAddr = '';
  let dests: MultiDest[] | null = null;
  if (command === CMD.submit_multi) {
    if (o >= end) return bad(ST.RINVCMDLEN, 'PDU too short');
    const count = b[o++]!;
    if (count === 0 || count > 254) return bad(ST.RINVNUMDESTS, 'number_of_dests out of range');
    dests = new Array<MultiDest>(count);
    for (let i = 0; i < count; i++) {
      const start = o;
      if (o >= end) return bad(ST.RINVCMDLEN, 'dest_address truncated');
      const flag = b[o++]!;
      if (flag === 1) {
        if (o + 2 > end) return bad(ST.RINVCMDLEN, 'dest_address truncated');
        const ton = b[o]!; const npi = b[o + 1]!; o += 2;
        e = cstringEnd(b, o, 21);
        if (e < 0) return bad(ST.RINVCMDLEN, 'destination_addr unterminated');
        dests[i] = { flag, ton, npi, addr: b.toString('latin1', o, e), start, end: e + 1 };
        o = e + 1;
      } else if (flag === 2) {
        e = cstringEnd(b, o, 21);
        if (e < 0) return bad(ST.RINVCMDLEN, 'dl_name unterminated');
        dests[i] = { flag, ton: 0, npi: 0, addr: b.toString('latin1', o, e), start, end: e + 1 };
        o = e + 1;
      } else return bad(ST.RINVDESTFLAG, 'dest_flag must be 1 or 2');
    }
  } else {
    if (o + 2 > end) return bad(ST.RINVCMDLEN, 'PDU too short');
    destTon = b[o]!; destNpi = b[o + 1]!; o += 2;
    e = cstringEnd(b, o, command === CMD.data_sm ? 65 : 21);
    if (e < 0) return bad(ST.RINVCMDLEN, 'destination_addr unterminated');
    destAddr = b.toString('latin1', o, e); o = e + 1;
  }
  let esmClass: number, dataCoding: number, registeredDelivery: number;
  let smStart = 0, smEnd = 0;
  if (command === CMD.data_sm) {
    if (o + 3 > end) return bad(ST.RINVCMDLEN, 'PDU too short');
    esmClass = b[o]!; registeredDelivery = b[o + 1]!; dataCoding = b[o + 2]!; o += 3;
  } else {
    if (o + 3 > end) return bad(ST.RINVCMDLEN, 'PDU too short');
    esmClass = b[o]!; o += 3; // esm_class, protocol_id, priority_flag
    e = cstringEnd(b, o, 17);
    if (e < 0) return bad(ST.RINVCMDLEN, 'schedule_delivery_time unterminated');
    o = e + 1;
    e = cstringEnd(b, o, 17);
    if (e < 0) return bad(ST.RINVCMDLEN, 'validity_period unterminated');
    o = e + 1;
    if (o + 5 > end) return bad(ST.RINVCMDLEN, 'PDU too short');
    registeredDelivery = b[o]!; dataCoding = b[o + 2]!;
    const smLength = b[o + 4]!; o += 5;
    if (o + smLength > end) return bad(ST.RINVMSGLEN, 'sm_length runs past the PDU');
    smStart = o; smEnd = o + smLength; o = smEnd;
  }
  const tlvStart = o;
  let payload = false, sarRef = -1, sarTotal = 0, sarSeq = 0, typeTlvStart = -1, typeTlvLength = 0;
  let receiptedId: string | null = null;
  while (o < end) {
    if (o + 4 > end) return bad(ST.RINVTLVSTREAM, 'TLV header truncated');
    const tag = b.readUInt16BE(o); const len = b.readUInt16BE(o + 2); o += 4;
    if (o + len > end) return bad(ST.RINVTLVLEN, 'TLV length runs past the PDU');
    switch (tag) {
      case TLV.message_payload:
        if (smEnd > smStart) return bad(ST.RINVTLVSTREAM, 'both short_message and message_payload');
        smStart = o; smEnd = o + len; payload = true; break;
      case TLV.sar_msg_ref_num:
        if (len !== 2) return bad(ST.RINVTLVLEN, 'sar_msg_ref_num must be 2 octets');
        sarRef = b.readUInt16BE(o); break;
      case TLV.sar_total_segments:
        if (len !== 1) return bad(ST.RINVTLVLEN, 'sar_total_segments must be 1 octet');
        sarTotal = b[o]!; break;
      case TLV.sar_segment_seqnum:
        if (len !== 1) return bad(ST.RINVTLVLEN, 'sar_segment_seqnum must be 1 octet');
        sarSeq = b[o]!; break;
      case TLV.receipted_message_id: {
        let z = o + len; while (z > o && b[z - 1] === 0) z--;
        receiptedId = b.toString('latin1', o, z); break;
      }
      default:
        if (tag === typeTag && typeTag !== 0) { typeTlvStart = o; typeTlvLength = len; }
    }
    o += len;
  }
  return {
    command, sourceTon, sourceNpi, sourceAddr, destTon, destNpi, destAddr, esmClass, dataCoding, registeredDelivery,
    smStart, smEnd, tlvStart, payload, sarRef, sarTotal, sarSeq, typeTlvStart, typeTlvLength, receiptedId, dests,
  };
}

/** True when `r` is a parse error. */
export const isPduError = (r: ShortMessageFields | PduError): r is PduError => (r as PduError).reason !== undefined;

/**
 * A copy of a submit_multi PDU holding only the destinations whose flag in `keep` is true (the
 * rest of the PDU byte for byte). `fields.dests` must come from {@link readShortMessage}.
 */
export function filterMultiDests(b: Buffer, fields: ShortMessageFields, keep: readonly boolean[]): Buffer {
  const dests = fields.dests!;
  const first = dests[0]!.start; const last = dests[dests.length - 1]!.end;
  const parts: Buffer[] = [b.subarray(0, first - 1), Buffer.from([keep.filter(Boolean).length])];
  for (let i = 0; i < dests.length; i++) if (keep[i]) parts.push(b.subarray(dests[i]!.start, dests[i]!.end));
  parts.push(b.subarray(last));
  const out = Buffer.concat(parts);
  out.writeUInt32BE(out.length, 0);
  return out;
}

/** One unsuccessful submit_multi destination (SMPP 3.4 §4.5.2 unsuccess_sme). */
export interface UnsuccessSme { ton: number; npi: number; addr: string; status: number }

/** Reads a submit_multi_resp body: message_id and the unsuccess_sme list (lenient: stops at the end). */
export function readMultiResp(b: Buffer): { messageId: string; unsuccess: UnsuccessSme[] } {
  let o = HEADER_BYTES;
  let e = cstringEnd(b, o, 65);
  if (e < 0) return { messageId: '', unsuccess: [] };
  const messageId = b.toString('latin1', o, e); o = e + 1;
  const unsuccess: UnsuccessSme[] = [];
  if (o >= b.length) return { messageId, unsuccess };
  const n = b[o++]!;
  for (let i = 0; i < n && o + 2 < b.length; i++) {
    const ton = b[o]!; const npi = b[o + 1]!; o += 2;
    e = cstringEnd(b, o, 21);
    if (e < 0 || e + 5 > b.length) break;
    const addr = b.toString('latin1', o, e); o = e + 1;
    unsuccess.push({ ton, npi, addr, status: b.readUInt32BE(o) }); o += 4;
  }
  return { messageId, unsuccess };
}

/** A submit_multi_resp (SMPP 3.4 §4.5.2). */
export function multiResp(status: number, seq: number, messageId: string, unsuccess: readonly UnsuccessSme[]): Buffer {
  let len = HEADER_BYTES + messageId.length + 2;
  for (const u of unsuccess) len += 2 + u.addr.length + 1 + 4;
  const b = Buffer.alloc(len);
  b.writeUInt32BE(len, 0); b.writeUInt32BE(CMD.submit_multi_resp, 4); b.writeUInt32BE(status >>> 0, 8); b.writeUInt32BE(seq >>> 0, 12);
  let o = HEADER_BYTES;
  o += b.write(messageId, o, 'latin1'); b[o++] = 0;
  b[o++] = unsuccess.length;
  for (const u of unsuccess) {
    b[o++] = u.ton; b[o++] = u.npi;
    o += b.write(u.addr, o, 'latin1'); b[o++] = 0;
    b.writeUInt32BE(u.status >>> 0, o); o += 4;
  }
  return b;
}

/** The message_id C-octet string of a submit_sm_resp / data_sm_resp ('' when absent). */
export function respMessageId(b: Buffer): string {
  if (b.length <= HEADER_BYTES) return '';
  let e = b.indexOf(0, HEADER_BYTES);
  if (e < 0) e = b.length;
  return b.toString('latin1', HEADER_BYTES, e);
}
