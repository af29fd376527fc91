import { recipientOf } from './address.ts';
import type { SmppConfig } from './config.ts';
import type { EsmeSession } from './front.ts';
import type { MobileOriginated, MobileOriginatedHandler } from './mobile-originated.ts';
import type { PduOutcome } from './metrics.ts';
import { isPduError, readShortMessage, statusOf } from './pdu.ts';
import { decodeText, readUdh } from './text.ts';
import type { SmppLog } from './upstream-pool.ts';

interface Waiting { pdu: Buffer; answer: (status: number) => void; at: number }

/** Most deliver_sm held for one system_id while no receiver is bound. */
const MAX_WAITING = 10_000;

/**
 * deliver_sm from an upstream SMSC → the ESME bound for it, with its own deliver_sm_resp round
 * trip: the upstream's deliver_sm_resp carries the ESME's status (so the SMSC retries what the
 * ESME did not take).
 * - Receipts (esm_class message type ≠ 0) go to the system_id that submitted the message: its
 *   upstream message_id is remembered (bounded, `receiptRoutesMax`) when several binds share the
 *   upstream; otherwise, and for MO, to the first bind of that upstream (`receiveMo` for MO).
 * - No receiver/transceiver bound: held up to `deliverWaitMs` for one to bind (a receiver bound
 *   later gets it), then the upstream gets the temporary status.
 * - MO texts are also handed to the MO handler (mobile-originated.ts); the upstream's
 *   deliver_sm_resp waits for it.
 */
export class DeliverRelay {
  readonly #cfg: SmppConfig;
  readonly #log: SmppLog;
  readonly #sessions: Set<EsmeSession>;
  readonly #onMo: MobileOriginatedHandler;
  readonly #count: (o: PduOutcome) => void;
  readonly #routes = new Map<string, string>();
  readonly #waiting = new Map<string, Waiting[]>();
  readonly #shared = new Set<string>();
  readonly #first = new Map<string, string>();
  readonly #firstMo = new Map<string, string>();
  readonly #timer: NodeJS.Timeout;
  #rr = 0;

  constructor(deps: { config: SmppConfig; log: SmppLog; sessions: Set<EsmeSession>; onMobileOriginated: MobileOriginatedHandler; count: (o: PduOutcome) => void }) {
    this.#cfg = deps.config; this.#log = deps.log; this.#sessions = deps.sessions; this.#onMo = deps.onMobileOriginated; this.#count = deps.count;
    const users = new Map<string, number>();
    for (const b of deps.config.binds) {
      users.set(b.upstream, (users.get(b.upstream) ?? 0) + 1);
      if (!this.#first.has(b.upstream)) this.#first.set(b.upstream, b.systemId);
      if (b.receiveMo && !this.#firstMo.has(b.upstream)) this.#firstMo.set(b.upstream, b.systemId);
    }
    for (const [u, n] of users) if (n > 1) this.#shared.add(u);
    this.#timer = setInterval(() => this.#sweep(), Math.max(20, Math.min(deps.config.deliverWaitMs / 4, 1_000)));
    this.#timer.unref();
  }

  /** True when receipts of this upstream need the message_id → system_id map (several binds share it). */
  routesReceipts(upstream: string): boolean { return this.#shared.has(upstream); }

  /** Remembers who submitted an upstream message id (bounded: the oldest is forgotten first). */
  remember(upstream: string, messageId: string, systemId: string): void {
    if (messageId === '') return;
    const k = upstream + '\u0000' + messageId;
    this.#routes.set(k, systemId);
    if (this.#routes.size > this.#cfg.receiptRoutesMax) this.#routes.delete(this.#routes.keys().next().value!);
  }

  /** A deliver_sm from `upstream`. */
  fromUpstream(upstream: string, pdu: Buffer, answer: (status: number) => void): void {
    const f = readShortMessage(pdu, 0);
    if (isPduError(f)) { this.#count('malformed'); answer(f.status); return; }
    const receipt = (f.esmClass & 0x3c) !== 0;
    let target: string | undefined;
    if (receipt) {
      const id = f.receiptedId ?? /id:(\S+)/.exec(pdu.toString('latin1', f.smStart, f.smEnd))?.[1];
      if (id !== undefined) target = this.#routes.get(upstream + '\u0000' + id);
      target ??= this.#first.get(upstream);
    } else {
      target = this.#firstMo.get(upstream);
      const udh = readUdh(pdu, f.smStart, f.smEnd, (f.esmClass & 0x40) !== 0);
      const text = udh === null ? null : decodeText(pdu, f.smStart, f.smEnd, f.dataCoding, udh);
      answer = this.#afterMo(answer, { from: recipientOf(f.sourceTon, f.sourceAddr), to: f.destAddr, text, receivedAt: Date.now(), messageId: f.receiptedId, via: upstream, systemId: target ?? null });
    }
    if (target === undefined) { this.#count('refused'); answer(0); return; } // no bind uses this upstream
    this.#deliver(target, { pdu: Buffer.from(pdu), answer, at: Date.now() });
  }

  /**
   * Hands an MO to the handler; the upstream's deliver_sm_resp waits for both the ESME's answer
   * and the handler (a refusal it records is durable before the SMSC hears OK); a handler that
   * fails gives the upstream the temporary status, so the SMSC delivers the MO again.
   */
  #afterMo(answer: (status: number) => void, mo: MobileOriginated): (status: number) => void {
    let esme: number | null = null; let settled = false; let failed = false;
    const finish = () => { if (esme !== null && settled) answer(failed ? this.#cfg.temporaryStatus : esme); };
    const done = (err?: unknown) => {
      if (err !== undefined) { failed = true; this.#log.error({ err }, 'SMPP MO handler failed: the upstream gets the temporary status'); }
      settled = true; finish();
    };
    try {
      const r = this.#onMo(mo);
      if (r instanceof Promise) r.then(() => done(), (err: unknown) => done(err ?? new Error('rejected')));
      else done();
    } catch (err) { done(err ?? new Error('threw')); }
    return (status) => { esme = status; finish(); };
  }

  /** A receiver or transceiver of `s.systemId` bound: it gets what waited for it. */
  receiverBound(s: EsmeSession): void {
    const q = this.#waiting.get(s.systemId);
    if (q === undefined) return;
    this.#waiting.delete(s.systemId);
    for (const w of q) this.#deliver(s.systemId, w);
  }

  close(): void {
    clearInterval(this.#timer);
    for (const q of this.#waiting.values()) for (const w of q) w.answer(this.#cfg.temporaryStatus);
    this.#waiting.clear();
  }

  #receiver(systemId: string): EsmeSession | null {
    let n = 0;
    for (const s of this.#sessions) if (s.systemId === systemId && s.canReceive && !s.link.closed && s.unbinding < 0) n++;
    if (n === 0) return null;
    let k = this.#rr++ % n;
    for (const s of this.#sessions) if (s.systemId === systemId && s.canReceive && !s.link.closed && s.unbinding < 0 && k-- === 0) return s;
    return null;
  }

  #deliver(systemId: string, w: Waiting): void {
    const s = this.#receiver(systemId);
    if (s === null) {
      let q = this.#waiting.get(systemId);
      if (q === undefined) { q = []; this.#waiting.set(systemId, q); }
      if (q.length >= MAX_WAITING) { this.#count('temporary'); w.answer(this.#cfg.temporaryStatus); return; }
      q.push(w);
      return;
    }
    s.link.request(w.pdu, (resp, why) => {
      if (resp !== null) { this.#count(statusOf(resp) === 0 ? 'forwarded' : 'upstream_error'); w.answer(statusOf(resp)); return; }
      if (why === 'closed' && Date.now() - w.at < this.#cfg.deliverWaitMs) { this.#deliver(systemId, w); return; } // another receiver, or wait for one
      this.#count('timeout');
      w.answer(this.#cfg.temporaryStatus);
    });
  }

  #sweep(): void {
    const limit = Date.now() - this.#cfg.deliverWaitMs;
    for (const [id, q] of this.#waiting) {
      let i = 0;
      while (i < q.length && q[i]!.at <= limit) { this.#count('temporary'); q[i]!.answer(this.#cfg.temporaryStatus); i++; }
      if (i === q.length) this.#waiting.delete(id); else if (i > 0) q.splice(0, i);
    }
  }
}
