import type { CheckService } from '../../check/check-service.ts';
import { screenOutbound, type OutboundMessage } from '../../check/screening.ts';
import type { PromotionalPolicy } from '../../domain/promo-lint.ts';
import type { MessageType, Reason } from '../../domain/types.ts';
import { maskAddr, recipientOf } from './address.ts';
import { Reassembly, type HeldPart } from './concat.ts';
import type { SmppConfig } from './config.ts';
import type { DeliverRelay } from './deliver-relay.ts';
import type { EsmeSession } from './front.ts';
import type { CountedCommand, PduOutcome, SmppMetrics } from './metrics.ts';
import {
  CMD, RESP_BIT, ST, cmdOf, cstringResp, filterMultiDests, isPduError, multiResp, readMultiResp, readShortMessage,
  respMessageId, seqOf, setSeq, statusOf, type ShortMessageFields, type UnsuccessSme,
} from './pdu.ts';
import { decodeText, readUdh } from './text.ts';
import type { SmppLog, UpstreamPool } from './upstream-pool.ts';

/** The decision for one message: forward it, or answer with `status`. */
type Verdict = { forward: true } | { forward: false; status: number; outcome: PduOutcome };
const FORWARD: Verdict = Object.freeze({ forward: true });
const RESOLVED = Promise.resolve();

/** One submit waiting for its answer. */
interface Item { s: EsmeSession; pdu: Buffer; seq: number; respCmd: number; name: CountedCommand }

/** What the screening of submits needs. */
export interface SubmitDeps {
  config: SmppConfig;
  checks: CheckService;
  policy: PromotionalPolicy;
  log: SmppLog;
  pools: Map<string, UpstreamPool>;
  metrics: SmppMetrics | null;
  relay: DeliverRelay;
}

/**
 * submit_sm / data_sm / submit_multi of a bound ESME → the gate's one screening
 * (`screenOutbound`, entrance `smpp`, via = system_id) → forward upstream or answer.
 *
 * - Recipient: destination TON/NPI + address (address.ts) normalized by domain/recipient.ts.
 * - Message type: the bind's, or what the configured message-type TLV says.
 * - Text: UDH and data_coding decoded (text.ts); message_payload when sm_length is 0.
 * - Concatenated messages (UDH 8/16-bit reference, SAR TLVs): parts are held (concat.ts) until
 *   the message is complete, screened once on the whole text, then every part is forwarded in
 *   order on one upstream bind (each answered with its own upstream message_id) or every part is
 *   answered with the same refusal. The ESME waits for each held part's response within its
 *   window, so an ESME must be able to send all parts before the first response (a window ≥ the
 *   part count; Kannel, Jasmin and node-smpp do); parts that do not complete within
 *   `smpp.concatTimeoutMs` get the temporary status.
 * - Answers: blocked → `blockedStatus` (`invalidRecipientStatus` for an address that cannot be
 *   normalized), STORE_UNAVAILABLE / MIRROR_STALE / upstream down / upstream timeout →
 *   `temporaryStatus`; allowed → the upstream's own response (message_id, throttling, errors).
 */
export class SubmitScreen {
  readonly #d: SubmitDeps;
  readonly #concat: Reassembly<Item, Verdict>;
  readonly #typeValues: Record<string, MessageType> | null;
  readonly #typeTag: number;
  readonly #temporary: { forward: false; status: number; outcome: PduOutcome };

  constructor(deps: SubmitDeps) {
    this.#d = deps;
    const c = deps.config;
    this.#typeTag = c.messageTypeTlv?.tag ?? 0;
    this.#typeValues = c.messageTypeTlv?.values ?? null;
    this.#temporary = { forward: false, status: c.temporaryStatus, outcome: 'temporary' };
    this.#concat = new Reassembly<Item, Verdict>(c.concatTimeoutMs, c.concatMaxMessages, (parts) => {
      for (const p of parts) this.#refuse(p.item, this.#temporary.status, 'timeout');
      if (parts.length > 0) this.#d.log.warn({ systemId: parts[0]!.item.s.systemId, parts: parts.length }, 'SMPP concatenated message incomplete after concatTimeoutMs: held parts answered with the temporary status');
    });
  }

  close(): void { this.#concat.close(); }

  /**
   * One decision-log commit for every screening of this loop turn: the submits of one window
   * share one write + fdatasync instead of one each (screenOutbound `commit: 'later'`). Rejects
   * when the log cannot write: the caller answers with the temporary status (nothing forwarded).
   */
  #committed(): Promise<void> {
    const log = this.#d.checks.decisions;
    if (log === null) return RESOLVED;
    return (this.#commitTurn ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => { this.#commitTurn = null; log.commit().then(resolve, reject); });
    }));
  }

  #commitTurn: Promise<void> | null = null;

  /** A bug past the screening (never expected): logged, never an unhandled rejection. */
  readonly #crashed = (err: unknown): void => { this.#d.log.error({ err }, 'SMPP submit handling failed'); };

  /** Screens one submit of a bound ESME (its window slot is taken; `s.answer` frees it). */
  handle(s: EsmeSession, pdu: Buffer, name: CountedCommand): void {
    const cmd = cmdOf(pdu);
    const item: Item = { s, pdu, seq: seqOf(pdu), respCmd: (cmd | RESP_BIT) >>> 0, name };
    const f = readShortMessage(pdu, this.#typeTag);
    if (isPduError(f)) { this.#refuse(item, f.status, 'malformed'); return; }
    const udh = readUdh(pdu, f.smStart, f.smEnd, (f.esmClass & 0x40) !== 0);
    if (udh === null) { this.#refuse(item, ST.RINVMSGLEN, 'malformed'); return; }
    const text = decodeText(pdu, f.smStart, f.smEnd, f.dataCoding, udh);
    const messageType = this.#typeOf(pdu, f, s);
    if (cmd === CMD.submit_multi) { this.#multi(item, f, text, messageType).catch(this.#crashed); return; }
    let ref = -1, total = 0, partNo = 0;
    if (udh.ref >= 0 && udh.total > 1) { ref = udh.ref; total = udh.total; partNo = udh.seq; }
    else if (f.sarRef >= 0 && f.sarTotal > 1) { ref = f.sarRef + 0x20000; total = f.sarTotal; partNo = f.sarSeq; }
    if (total <= 1) {
      this.#screen(s, f, text === null ? [] : [text], text === null, messageType).then((v) => this.#apply([item], v)).catch(this.#crashed);
      return;
    }
    if (partNo < 1 || partNo > total) { this.#refuse(item, ST.RINVMSGLEN, 'malformed'); return; }
    item.pdu = Buffer.from(pdu); // held: a copy, so the socket's chunk is not retained
    const key = `${s.systemId}\u0000${f.destTon}\u0000${f.destAddr}\u0000${f.sourceAddr}\u0000${ref}\u0000${total}`;
    const r = this.#concat.add(key, total, { seqNo: partNo, text, item });
    switch (r.kind) {
      case 'held': return;
      case 'full': this.#refuse(item, this.#temporary.status, 'temporary'); return;
      case 'replaced': this.#refuse(r.older.item, this.#temporary.status, 'temporary'); return;
      case 'decided': this.#apply([item], r.decision); return;
      case 'complete': {
        const parts: HeldPart<Item>[] = r.parts;
        const unseen = parts.some((p) => p.text === null);
        const whole = parts.map((p) => p.text ?? '').join('');
        this.#screen(s, f, [whole], unseen, messageType).then((v) => {
          if (v.forward || v.status !== this.#temporary.status) this.#concat.decided(key, v);
          this.#apply(parts.map((p) => p.item), v);
        }).catch(this.#crashed);
      }
    }
  }

  #typeOf(pdu: Buffer, f: ShortMessageFields, s: EsmeSession): MessageType {
    const values = this.#typeValues;
    if (values === null || f.typeTlvStart < 0) return s.bind!.messageType;
    let end = f.typeTlvStart + f.typeTlvLength;
    const hex = pdu.toString('hex', f.typeTlvStart, end);
    while (end > f.typeTlvStart && pdu[end - 1] === 0) end--;
    const text = pdu.toString('latin1', f.typeTlvStart, end);
    return values[text] ?? values[hex] ?? 'TICARI'; // an unknown value: the stricter type
  }

  /** One screening of one destination (submit_sm, data_sm, a whole concatenated message). */
  async #screen(s: EsmeSession, f: ShortMessageFields, texts: string[], unseen: boolean, messageType: MessageType): Promise<Verdict> {
    const bind = s.bind!;
    const msg: OutboundMessage = {
      entrance: 'smpp', via: s.systemId, brandCode: bind.brandCode, type: 'MESAJ', recipientType: bind.recipientType, messageType,
      recipients: [recipientOf(f.destTon, f.destAddr)], texts, unseenText: unseen ? `data_coding 0x${f.dataCoding.toString(16)} not readable` : undefined,
    };
    let allowed: boolean; let reason: Reason | null = null;
    try {
      const r = await screenOutbound(this.#d.checks, msg, { policy: bind.promotionalInformational ?? this.#d.policy, commit: 'later' });
      allowed = !r.refused && r.keep[0] === true;
      if (!allowed && !r.refused) reason = r.results[0]!.reason;
      if (allowed) await this.#committed(); // the decision is on disk before the PDU goes upstream
    } catch (err) {
      this.#d.log.error({ err, systemId: s.systemId }, 'SMPP screening failed: answered with the temporary status');
      return this.#temporary;
    }
    this.#d.metrics?.recipients(s.systemId, allowed ? 1 : 0, allowed ? 0 : 1);
    if (allowed) return FORWARD;
    const status = this.#statusFor(reason);
    return { forward: false, status, outcome: status === this.#temporary.status ? 'temporary' : 'blocked' };
  }

  /** The answer to a refused recipient: null reason = the promotional policy refused the message. */
  #statusFor(reason: Reason | null): number {
    const c = this.#d.config;
    if (reason === 'STORE_UNAVAILABLE' || reason === 'MIRROR_STALE') return c.temporaryStatus;
    if (reason === 'INVALID_RECIPIENT') return c.invalidRecipientStatus;
    return c.blockedStatus;
  }

  #apply(items: Item[], v: Verdict): void {
    if (v.forward) this.#forward(items);
    else for (const it of items) this.#refuse(it, v.status, v.outcome);
  }

  #refuse(it: Item, status: number, outcome: PduOutcome): void {
    this.#d.metrics?.pdu(it.name, outcome);
    it.s.answer(it.respCmd === CMD.submit_multi_resp ? multiResp(status, it.seq, '', []) : cstringResp(it.respCmd, status, it.seq, ''));
  }

  /** Sends the items upstream in order on one bind; each ESME answer is its upstream response. */
  #forward(items: Item[], onResp?: (it: Item, resp: Buffer | null) => Buffer): void {
    const bind = items[0]!.s.bind!;
    const pool = this.#d.pools.get(bind.upstream)!;
    const link = pool.pick();
    if (link === 'down' || link === 'full') {
      for (const it of items) this.#refuse(it, link === 'down' ? this.#temporary.status : ST.RMSGQFUL, link === 'down' ? 'upstream_down' : 'throttled');
      return;
    }
    const metrics = this.#d.metrics;
    const route = this.#d.relay.routesReceipts(bind.upstream);
    for (const it of items) {
      const t0 = metrics ? performance.now() : 0;
      pool.send(link, it.pdu, (resp, why) => {
        if (metrics) metrics.upstreamLatency(pool.name, resp !== null, (performance.now() - t0) / 1000);
        if (resp === null) {
          if (why === 'timeout') this.#d.log.warn({ upstream: pool.name, systemId: it.s.systemId }, `SMPP upstream ${pool.name}: no response within responseTimeoutMs after the submit was written; delivery unknown, answered with the temporary status`);
          if (onResp) { metrics?.pdu(it.name, why === 'timeout' ? 'timeout' : 'upstream_error'); it.s.answer(onResp(it, null)); return; }
          this.#refuse(it, this.#temporary.status, why === 'timeout' ? 'timeout' : 'upstream_error');
          return;
        }
        const st = statusOf(resp);
        metrics?.pdu(it.name, st === 0 ? 'forwarded' : 'upstream_error');
        if (onResp) { it.s.answer(onResp(it, resp)); return; }
        if (cmdOf(resp) !== it.respCmd) { it.s.answer(cstringResp(it.respCmd, st === 0 ? ST.RSYSERR : st, it.seq, '')); return; }
        if (st === 0 && route) this.#d.relay.remember(pool.name, respMessageId(resp), it.s.systemId);
        setSeq(resp, it.seq);
        it.s.answer(resp);
      });
    }
  }

  /** submit_multi: one screening of every destination; the blocked ones listed in unsuccess_sme, the rest forwarded. */
  async #multi(it: Item, f: ShortMessageFields, text: string | null, messageType: MessageType): Promise<void> {
    const s = it.s; const bind = s.bind!; const dests = f.dests!;
    const recipients = dests.map((d) => (d.flag === 1 ? recipientOf(d.ton, d.addr) : ''));
    const msg: OutboundMessage = {
      entrance: 'smpp', via: s.systemId, brandCode: bind.brandCode, type: 'MESAJ', recipientType: bind.recipientType, messageType,
      recipients, texts: text === null ? [] : [text], unseenText: text === null ? `data_coding 0x${f.dataCoding.toString(16)} not readable` : undefined,
    };
    let keep: boolean[]; let reasons: (Reason | null)[];
    try {
      const r = await screenOutbound(this.#d.checks, msg, { policy: bind.promotionalInformational ?? this.#d.policy, commit: 'later' });
      if (r.allowed > 0) await this.#committed();
      keep = r.keep.map((k, i) => k && dests[i]!.flag === 1); // a distribution list cannot be screened
      reasons = r.refused ? dests.map(() => null) : r.results.map((x) => x.reason);
    } catch (err) {
      this.#d.log.error({ err, systemId: s.systemId }, 'SMPP screening failed: answered with the temporary status');
      this.#refuse(it, this.#temporary.status, 'temporary');
      return;
    }
    const ours: UnsuccessSme[] = [];
    let allowed = 0; let temporary = 0;
    for (let i = 0; i < dests.length; i++) {
      if (keep[i]) { allowed++; continue; }
      const d = dests[i]!;
      const status = d.flag === 2 ? this.#d.config.blockedStatus : this.#statusFor(reasons[i] ?? null);
      if (status === this.#temporary.status) temporary++;
      ours.push({ ton: d.ton, npi: d.npi, addr: d.addr, status });
    }
    this.#d.metrics?.recipients(s.systemId, allowed, dests.length - allowed);
    if (allowed === 0) {
      const status = temporary === dests.length ? this.#temporary.status : this.#d.config.blockedStatus;
      this.#d.metrics?.pdu(it.name, status === this.#temporary.status ? 'temporary' : 'blocked');
      s.answer(multiResp(status, it.seq, '', ours));
      return;
    }
    if (allowed < dests.length) {
      it.pdu = filterMultiDests(it.pdu, f, keep);
      this.#d.log.info({ systemId: s.systemId, removed: ours.length, first: maskAddr(ours[0]!.addr) }, 'SMPP submit_multi: blocked destinations listed in unsuccess_sme, the rest forwarded');
    }
    this.#forward([it], (x, resp) => {
      if (resp === null) return multiResp(this.#temporary.status, x.seq, '', ours); // delivery unknown / link lost
      if (cmdOf(resp) !== CMD.submit_multi_resp) return multiResp(statusOf(resp) || ST.RSYSERR, x.seq, '', ours);
      const up = readMultiResp(resp);
      return multiResp(statusOf(resp), x.seq, up.messageId, [...ours, ...up.unsuccess]);
    });
  }
}
