import type { Socket } from 'node:net';
import { CMD, FrameReader, RESP_BIT, ST, cmdOf, headerPdu, seqOf, setSeq } from './pdu.ts';

/** Why a request got no response. */
export type NoResponse = 'timeout' | 'closed';
/** Called once per request: the response PDU (a view: copy to keep), or why there is none. */
export type ResponseCallback = (resp: Buffer | null, why?: NoResponse) => void;

interface Pending { cb: ResponseCallback; at: number }

/** Bounds of one link (ms, bytes). */
export interface LinkOptions {
  maxPduBytes: number;
  /** A request unanswered this long gets `timeout`. */
  responseTimeoutMs: number;
  /** An enquire_link is sent after this much silence from the peer; unanswered, the link closes. */
  enquireLinkMs: number;
}

/** What the owner of a link hears. */
export interface LinkHandlers {
  /** A request PDU from the peer (not enquire_link, which the link answers itself). A view: copy to keep. */
  onRequest(pdu: Buffer): void;
  /** The link is gone (after every pending request was called back with `closed`). */
  onClose(): void;
  /** A PDU whose command_length is below 16 or past `maxPduBytes` (answered generic_nack, link closing). */
  onMalformed?(commandLength: number): void;
}

/**
 * One SMPP connection, either side: frames the socket, numbers and tracks outgoing requests
 * (response or `timeout` after `responseTimeoutMs`, `closed` when the socket goes), answers the
 * peer's enquire_link, probes a silent peer with its own. Allocation-light: a PDU is handed on as
 * a view of the socket's chunk; one small record per request in flight; deadlines are swept by
 * one timer per link (requests share one timeout, so they expire in the order they were sent).
 */
export class SmppLink {
  readonly socket: Socket;
  readonly #opts: LinkOptions;
  readonly #h: LinkHandlers;
  readonly #reader: FrameReader;
  readonly #pending = new Map<number, Pending>();
  readonly #timer: NodeJS.Timeout;
  #seq = 0;
  #lastRx = Date.now();
  #probing = false;
  #closed = false;
  #corked = false;

  constructor(socket: Socket, opts: LinkOptions, handlers: LinkHandlers) {
    this.socket = socket;
    this.#opts = opts;
    this.#h = handlers;
    socket.setNoDelay(true);
    this.#reader = new FrameReader(opts.maxPduBytes, (pdu) => this.#frame(pdu), (len, seq) => {
      handlers.onMalformed?.(len);
      this.send(headerPdu(CMD.generic_nack, ST.RINVCMDLEN, seq));
      socket.end();
      socket.destroySoon?.();
    });
    socket.on('data', (chunk: Buffer) => { this.#lastRx = Date.now(); this.#reader.push(chunk); });
    socket.on('error', () => { /* 'close' follows */ });
    socket.on('close', () => this.#gone());
    const tick = Math.max(20, Math.min(opts.responseTimeoutMs, opts.enquireLinkMs) / 4);
    this.#timer = setInterval(() => this.#sweep(), tick);
    this.#timer.unref();
  }

  /** Requests in flight (sent, not answered). */
  get inFlight(): number { return this.#pending.size; }
  get closed(): boolean { return this.#closed; }

  /**
   * Sends a request: its sequence_number is overwritten in place with this link's next one.
   * @returns the sequence number used; 0 (and `cb(null, 'closed')` at once) when the link is closed
   */
  request(pdu: Buffer, cb: ResponseCallback): number {
    if (this.#closed || !this.socket.writable) { cb(null, 'closed'); return 0; }
    if (this.#seq >= 0x7fffffff) this.#seq = 0;
    const seq = ++this.#seq;
    setSeq(pdu, seq);
    this.#pending.set(seq, { cb, at: Date.now() });
    this.#write(pdu);
    return seq;
  }

  /** Writes a PDU as it is (a response, or a request that wants no tracking). */
  send(pdu: Buffer): void {
    if (!this.#closed && this.socket.writable) this.#write(pdu);
  }

  /**
   * Writes are gathered until the end of this turn of the event loop (cork, uncork in the check
   * phase of the same loop iteration): the PDUs of one incoming chunk leave in one syscall
   * instead of one each.
   */
  #write(pdu: Buffer): void {
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      setImmediate(this.#uncork);
    }
    this.socket.write(pdu);
  }

  readonly #uncork = (): void => { this.#corked = false; this.socket.uncork(); };

  /** Sends unbind and closes once answered (or after `responseTimeoutMs`). */
  unbind(): void {
    if (this.#closed) return;
    this.request(headerPdu(CMD.unbind, 0, 0), () => this.destroy());
  }

  /** Closes the socket at once; pending requests get `closed`. */
  destroy(): void { this.socket.destroy(); this.#gone(); }

  #frame(pdu: Buffer): void {
    const cmd = cmdOf(pdu);
    if ((cmd & RESP_BIT) !== 0 || cmd === CMD.generic_nack) {
      const seq = seqOf(pdu);
      const p = this.#pending.get(seq);
      if (p !== undefined) { this.#pending.delete(seq); p.cb(pdu); }
      return;
    }
    if (cmd === CMD.enquire_link) { this.send(headerPdu(CMD.enquire_link_resp, 0, seqOf(pdu))); return; }
    this.#h.onRequest(pdu);
  }

  #sweep(): void {
    const now = Date.now();
    const limit = now - this.#opts.responseTimeoutMs;
    for (const [seq, p] of this.#pending) {
      if (p.at > limit) break;
      this.#pending.delete(seq);
      p.cb(null, 'timeout');
    }
    if (!this.#closed && !this.#probing && now - this.#lastRx >= this.#opts.enquireLinkMs) {
      this.#probing = true;
      this.request(headerPdu(CMD.enquire_link, 0, 0), (resp) => {
        this.#probing = false;
        if (resp === null) this.destroy(); // the peer is gone or hung: drop the link
      });
    }
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#reader.stop();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.cb(null, 'closed');
    this.#h.onClose();
  }
}
