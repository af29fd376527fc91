import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, rootCertificates } from 'node:tls';
import smpp from 'smpp';
import type { SmppUpstreamConfig } from './config.ts';
import { readConfigFile } from './config.ts';
import { SmppLink, type ResponseCallback } from './link.ts';
import { CMD, ST, cmdOf, cstringResp, headerPdu, seqOf, statusOf } from './pdu.ts';

/** Minimal logger (pino's shape). */
export interface SmppLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** One client bind to the upstream SMSC. */
class UpstreamBind {
  link: SmppLink | null = null;
  bound = false;
  backoffMs: number;
  retry: NodeJS.Timeout | null = null;
  constructor(readonly index: number, minMs: number) { this.backoffMs = minMs; }
}

/** What the pool hands its owner. */
export interface PoolHandlers {
  /** A deliver_sm (receipt or MO) from the upstream: `answer(status)` sends its deliver_sm_resp. A view: copy to keep. */
  onDeliver(pdu: Buffer, answer: (status: number) => void): void;
}

/**
 * The client side: `binds` SMPP binds kept open to one upstream SMSC (`smpp.upstreams[]`), each
 * with its own window; reconnects with doubling back-off (`reconnectMinMs` … `reconnectMaxMs`);
 * enquire_link on silence. A submit goes to the bound bind with the most window room; when none
 * is bound the caller hears it at once (`down`), never a queue.
 */
export class UpstreamPool {
  readonly name: string;
  readonly #cfg: SmppUpstreamConfig;
  readonly #binds: UpstreamBind[];
  readonly #h: PoolHandlers;
  readonly #log: SmppLog;
  readonly #maxPduBytes: number;
  readonly #host: string;
  readonly #port: number;
  readonly #tls: boolean;
  /** `caFile` read once at start (PEM), or null. */
  readonly #ca: string | null;
  #closed = false;

  constructor(cfg: SmppUpstreamConfig, opts: { maxPduBytes: number; log: SmppLog }, handlers: PoolHandlers) {
    this.name = cfg.name;
    this.#cfg = cfg;
    this.#h = handlers;
    this.#log = opts.log;
    this.#maxPduBytes = opts.maxPduBytes;
    const u = new URL(cfg.url.replace(/^s?smpp:/, 'http:'));
    this.#host = u.hostname; this.#port = Number(u.port); this.#tls = cfg.url.startsWith('ssmpp:');
    this.#ca = cfg.caFile ? readConfigFile(cfg.caFile, `smpp.upstreams[${cfg.name}].caFile`).toString('utf8') : null;
    this.#binds = Array.from({ length: cfg.binds }, (_, i) => new UpstreamBind(i, cfg.reconnectMinMs));
  }

  /** Opens every bind (does not wait for them). */
  start(): void { for (const b of this.#binds) this.#connect(b); }

  /** Binds currently bound. */
  get boundCount(): number { let n = 0; for (const b of this.#binds) if (b.bound) n++; return n; }
  /** Requests in flight over all binds (the window in use). */
  get inFlight(): number { let n = 0; for (const b of this.#binds) if (b.link) n += b.link.inFlight; return n; }
  /** Total window of the bound binds. */
  get windowSize(): number { return this.boundCount * this.#cfg.window; }

  /**
   * Picks the bound bind with the most window room (at least one free slot).
   * @returns the link, `'down'` when no bind is bound, `'full'` when every bound window is full
   */
  pick(): SmppLink | 'down' | 'full' {
    let best: SmppLink | null = null; let room = 0; let any = false;
    for (const b of this.#binds) {
      if (!b.bound || b.link === null) continue;
      any = true;
      const r = this.#cfg.window - b.link.inFlight;
      if (r > room) { room = r; best = b.link; }
    }
    if (!any) return 'down';
    // a message's parts go together on one bind even when they overfill its window a little
    return best ?? 'full';
  }

  /** Sends one request on a picked link (sequence number rewritten in place). */
  send(link: SmppLink, pdu: Buffer, cb: ResponseCallback): void { link.request(pdu, cb); }

  /** Unbinds every bind and stops reconnecting. */
  async close(): Promise<void> {
    this.#closed = true;
    const waits: Promise<void>[] = [];
    for (const b of this.#binds) {
      if (b.retry) clearTimeout(b.retry);
      const l = b.link;
      if (l && !l.closed) {
        waits.push(new Promise<void>((resolve) => { l.socket.once('close', () => resolve()); }));
        if (b.bound) l.unbind(); else l.destroy();
        setTimeout(() => l.destroy(), 1_000).unref();
      }
    }
    await Promise.all(waits);
  }

  #connect(b: UpstreamBind): void {
    if (this.#closed) return;
    b.retry = null;
    const socket: Socket = this.#tls
      ? tlsConnect({ host: this.#host, port: this.#port, rejectUnauthorized: true, ...(this.#ca ? { ca: [...rootCertificates, this.#ca] } : {}) })
      : netConnect({ host: this.#host, port: this.#port });
    const link = new SmppLink(socket, {
      maxPduBytes: this.#maxPduBytes, responseTimeoutMs: this.#cfg.responseTimeoutMs, enquireLinkMs: this.#cfg.enquireLinkMs,
    }, {
      onRequest: (pdu) => this.#request(link, pdu),
      onClose: () => {
        const wasBound = b.bound;
        b.bound = false; b.link = null;
        if (this.#closed) return;
        if (wasBound) this.#log.warn({ upstream: this.name, bind: b.index }, `SMPP upstream ${this.name}: bind ${b.index} lost; reconnecting`);
        b.retry = setTimeout(() => this.#connect(b), b.backoffMs);
        b.retry.unref();
        b.backoffMs = Math.min(b.backoffMs * 2, this.#cfg.reconnectMaxMs);
      },
    });
    b.link = link;
    socket.once(this.#tls ? 'secureConnect' : 'connect', () => {
      const command = this.#cfg.bindType === 'transmitter' ? 'bind_transmitter' : 'bind_transceiver';
      const bind = new smpp.PDU(command, {
        system_id: this.#cfg.systemId, password: this.#cfg.password, system_type: this.#cfg.systemType, interface_version: 0x34,
      }).toBuffer();
      link.request(bind, (resp) => {
        if (resp === null) { link.destroy(); return; }
        const st = statusOf(resp);
        if (st !== 0) {
          this.#log.error({ upstream: this.name, status: st }, `SMPP upstream ${this.name} refused the bind (status 0x${st.toString(16)})`);
          link.destroy();
          return;
        }
        b.bound = true;
        b.backoffMs = this.#cfg.reconnectMinMs;
        this.#log.info({ upstream: this.name, bind: b.index }, `SMPP upstream ${this.name}: bind ${b.index} bound`);
      });
    });
  }

  #request(link: SmppLink, pdu: Buffer): void {
    const cmd = cmdOf(pdu); const seq = seqOf(pdu);
    if (cmd === CMD.deliver_sm) {
      let answered = false;
      this.#h.onDeliver(pdu, (status) => {
        if (answered) return;
        answered = true;
        link.send(cstringResp(CMD.deliver_sm_resp, status, seq, ''));
      });
    } else if (cmd === CMD.unbind) {
      link.send(headerPdu(CMD.unbind_resp, 0, seq));
      link.socket.end();
    } else if (cmd === CMD.data_sm) {
      link.send(cstringResp(CMD.data_sm_resp, ST.RINVCMDID, seq, ''));
    } else {
      link.send(headerPdu(CMD.generic_nack, ST.RINVCMDID, seq));
    }
  }
}
