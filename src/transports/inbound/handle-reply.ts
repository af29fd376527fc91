import { createHash, randomUUID } from 'node:crypto';
import { recordRefusals, type RefusalDeps } from '../../check/refusals.ts';
import type { InboundConfig } from '../../config/inbound-schema.ts';
import { addBusinessDays } from '../../domain/calendar.ts';
import { compileReplyReader, type ReplyReader, type ReplyReading } from '../../domain/reply-reader.ts';
import { normalizePhone } from '../../domain/recipient.ts';
import { istanbulDate } from '../../domain/turkish-time.ts';
import type { RecipientType } from '../../domain/types.ts';
import type { InboundState, ReviewItem, ReviewReason } from './inbound-state.ts';

/**
 * One mobile-originated message (an SMS reply) in transport-neutral form: what every inbound door
 * (provider push receivers, inbox pollers, the generic `POST /v1/inbound`, the SMPP front's
 * `deliver_sm`) turns its protocol into. Stable shape: other doors call `handleInboundReply`.
 */
export interface InboundReply {
  /** The sender: the person's number as the provider gives it (`905321234567`, `+90532…`, `0532…`). */
  from: string;
  /** The destination: the number, short code or SMS header the reply was sent to. */
  to: string;
  /** The reply's text (UTF-8 decoded by the door). */
  text: string;
  /** When the provider received it; default now. A time in the future is taken as now. */
  receivedAt?: Date | undefined;
  /** The provider's id of the message (de-duplication key with `via`). */
  messageId: string;
  /** The door instance: upstream name (`netgsm`), `api`, or the SMPP bind's system_id. */
  via: string;
}

/** What handling one reply did. */
export interface InboundOutcome {
  /** `<via>:<messageId>`. */
  messageKey: string;
  /** `refused`: recorded (durable, blocking, queued with its deadline); `review`: kept for a person; `ignored`: not a stop request; `duplicate`: handled before. */
  status: 'refused' | 'review' | 'ignored' | 'duplicate';
  verdict?: ReplyReading['verdict'];
  /** One per brand and type refused. */
  refusals: { brandCode: number; type: 'MESAJ' | 'ARAMA'; reportDeadline: string | null }[];
  reviewId?: string;
  reason?: ReviewReason;
}

/** Counters the handler reports (metrics.ts registers them). */
export interface InboundCounters {
  reply(via: string, status: InboundOutcome['status']): void;
}

/** Sends the informational confirmation SMS (confirmation.ts); errors are the sender's to log. */
export type ConfirmationSender = (to: string, brandCode: number) => Promise<void>;

/** What the handler needs. */
export interface InboundRepliesDeps {
  config: InboundConfig;
  /** Brand short names → brandCode (config `brands[].shortNames`). */
  shortNames: ReadonlyMap<string, number>;
  state: InboundState;
  refusals: RefusalDeps;
  counters?: InboundCounters;
  confirm?: ConfirmationSender | undefined;
  /** Where a failed confirmation is reported (never throws into the reply path). */
  onConfirmError?: (err: unknown) => void;
}

/**
 * The inbound door's one handler (issue 14): reads the reply (domain/reply-reader.ts), maps its
 * destination to brands (`inbound.numbers`), records a refusal through the gate's one refusal path
 * (check/refusals.ts `recordRefusal`: outbox before mirror, deadline, both durable before this
 * resolves) for each brand and type (`inbound.types`), source HS_MESAJ, consentDate = the reply's
 * time; or keeps it for review (never dropped); de-duplicates by `<via>:<messageId>` durably (a
 * redelivered refusal whose RET the mirror lacks is recorded again: see handleMany).
 * Resolves only once everything it decided is durable, so a door may answer 2xx after it.
 */
export class InboundReplies {
  readonly read: ReplyReader;
  readonly #phones = new Map<string, number[]>();
  readonly #names = new Map<string, number[]>();
  readonly #inflight = new Map<string, Promise<void>>();

  constructor(readonly deps: InboundRepliesDeps) {
    this.read = compileReplyReader({ keywords: deps.config.keywords, brandNames: [...deps.shortNames.keys()] });
    for (const [dest, brands] of Object.entries(deps.config.numbers)) {
      const n = normalizePhone(dest);
      if (n.ok && /^\+?\d[\d\s-]{6,}$/.test(dest.trim())) this.#phones.set(n.canonical, brands);
      this.#names.set(dest.trim().toUpperCase(), brands);
    }
  }

  /** Brands served on destination `to` (number after normalization, else short code / header, case-insensitive), or null. */
  brandsOf(to: string): number[] | null {
    const t = to.trim();
    if (/^\+?\d[\d\s-]{6,}$/.test(t)) {
      const n = normalizePhone(t);
      if (n.ok) { const b = this.#phones.get(n.canonical); if (b) return b; }
    }
    return this.#names.get(t.toUpperCase()) ?? null;
  }

  /**
   * Handles one reply (see the class). Concurrent deliveries of the same message wait for the first.
   * @throws store/outbox/log errors as they come (the door answers 503 so the provider retries;
   *   nothing was marked handled)
   */
  async handle(msg: InboundReply): Promise<InboundOutcome> {
    return (await this.handleMany([msg]))[0]!;
  }

  /**
   * Handles the replies of one delivery (a provider push, an inbox page) together: decided one by
   * one, then written at once, in parallel — one record of handled marks and review items
   * (inbound.log), and one batch of refusals through recordRefusals (one outbox append, durable
   * before one mirror write) — so a push costs two group-committed durable steps in sequence (the
   * outbox's, then the mirror's), each fdatasync shared with the pushes in flight. Resolves once
   * all of it is durable (the door answers 2xx after it).
   *
   * A handled mark may be on disk while its refusal is not (a crash or a failed write before the
   * answer, which was then never 2xx): a delivery marked handled that reads as a refusal is
   * therefore a duplicate only when the mirror holds RET for every brand and type it refuses — the
   * outbox item is durable before the mirror write (check/refusals.ts), so a RET in the mirror
   * means it is queued or İYS had it. Otherwise it is recorded again. Outcomes in input order.
   * @throws as `handle`; the door answers 503 and the provider's retry is handled as above
   */
  async handleMany(msgs: readonly InboundReply[]): Promise<InboundOutcome[]> {
    const out = new Array<InboundOutcome>(msgs.length);
    const mine: number[] = [];
    const waits: Promise<unknown>[] = [];
    const inBatch = new Set<string>();
    msgs.forEach((m, i) => {
      const key = `${m.via}:${m.messageId}`;
      const dup: InboundOutcome = { messageKey: key, status: 'duplicate', refusals: [] };
      if (inBatch.has(key)) { out[i] = dup; return; }
      const running = this.#inflight.get(key);
      if (running) { waits.push(running.then(() => { out[i] = dup; }, () => { out[i] = dup; })); return; }
      inBatch.add(key);
      mine.push(i);
    });
    if (mine.length > 0) {
      const keys = mine.map((i) => `${msgs[i]!.via}:${msgs[i]!.messageId}`);
      const p = this.#handleBatch(mine.map((i) => msgs[i]!), keys.map((k) => this.deps.state.seen(k)));
      const settled = p.then(() => undefined, () => undefined);
      for (const k of keys) this.#inflight.set(k, settled);
      try {
        const done = await p;
        mine.forEach((i, j) => { out[i] = done[j]!; });
      } finally {
        for (const k of keys) this.#inflight.delete(k);
      }
    }
    await Promise.all(waits);
    for (let i = 0; i < out.length; i++) this.#count(msgs[i]!.via, out[i]!);
    return out;
  }

  #count(via: string, o: InboundOutcome): InboundOutcome { this.deps.counters?.reply(via, o.status); return o; }

  /** `handledBefore[i]`: msgs[i]'s key is marked handled (see handleMany for what that means). */
  async #handleBatch(msgs: readonly InboundReply[], handledBefore: readonly boolean[]): Promise<InboundOutcome[]> {
    const nowMs = this.deps.refusals.now();
    const seen: string[] = [];
    const reviews: ReviewItem[] = [];
    type Refusal = { i: number; recipient: string; brands: number[]; at: Date };
    const refuse: Refusal[] = [];
    const recheck: Refusal[] = [];
    const out = msgs.map((msg, i): InboundOutcome => {
      const key = `${msg.via}:${msg.messageId}`;
      const dup: InboundOutcome = { messageKey: key, status: 'duplicate', refusals: [] };
      const at = msg.receivedAt && !Number.isNaN(msg.receivedAt.getTime()) && msg.receivedAt.getTime() <= nowMs ? msg.receivedAt : new Date(nowMs);
      const reading = this.read(msg.text);
      if (reading.verdict === 'none') { if (handledBefore[i]) return dup; seen.push(key); return { messageKey: key, status: 'ignored', verdict: 'none', refusals: [] }; }
      const sender = normalizePhone(msg.from);
      const brands = this.brandsOf(msg.to);
      const review = (reason: ReviewReason): InboundOutcome => {
        if (handledBefore[i]) return dup;
        const item = this.#reviewItem(key, msg, at, reason, brands ?? []);
        reviews.push(item);
        return { messageKey: key, status: 'review', verdict: reading.verdict, refusals: [], reviewId: item.id, reason };
      };
      if (reading.verdict === 'review') return review(reading.reason ?? 'free-text-stop');
      if (!sender.ok || !sender.smsCapable) return review('invalid-sender');
      if (!brands) return review('unknown-destination');
      let targets = brands;
      const hinted = reading.brandHintKnown && reading.brandHint !== undefined ? this.deps.shortNames.get(reading.brandHint) : undefined;
      if (hinted !== undefined) targets = brands.includes(hinted) ? [hinted] : [...new Set([...brands, hinted])];
      else if (brands.length > 1 && this.deps.config.multiBrand === 'review') return review('multi-brand-no-hint');
      const r = { i, recipient: sender.canonical, brands: targets, at };
      if (handledBefore[i]) { recheck.push(r); return dup; }
      seen.push(key);
      refuse.push(r);
      return { messageKey: key, status: 'refused', verdict: 'refusal', refusals: [] };
    });
    if (recheck.length > 0) {
      // a refusal marked handled: a duplicate only when the mirror holds its RET (see handleMany)
      const { types, recipientType } = this.deps.config;
      const keys = recheck.flatMap((r) => r.brands.flatMap((brandCode) => types.map((type) => ({ brandCode, type, recipientType, recipient: r.recipient }))));
      const recs = await this.deps.refusals.store.getMany(keys);
      let j = 0;
      for (const r of recheck) {
        const n = r.brands.length * types.length;
        const held = recs.slice(j, j + n).every((rec) => rec?.status === 'RET');
        j += n;
        if (held) continue;
        refuse.push(r);
        out[r.i] = { messageKey: out[r.i]!.messageKey, status: 'refused', verdict: 'refusal', refusals: [] };
      }
    }
    // the handled marks and review items in one record, beside the refusals' writes (one outbox
    // append, then one mirror write); every write settled before the answer
    const marks = seen.length > 0 || reviews.length > 0 ? this.deps.state.record(seen, reviews) : Promise.resolve();
    marks.catch(() => undefined); // awaited below; observed now so a failure while the refusals write is not unhandled
    try {
      if (refuse.length > 0) {
        const inputs = refuse.flatMap((r) => r.brands.flatMap((brandCode) => this.deps.config.types.map((type) => ({ r, brandCode, type }))));
        const results = await recordRefusals(this.deps.refusals, inputs.map(({ r, brandCode, type }) => ({
          brandCode, recipient: r.recipient, type, recipientType: this.deps.config.recipientType, source: 'HS_MESAJ' as const, receivedAt: r.at,
        })));
        inputs.forEach(({ r, brandCode, type }, j) => out[r.i]!.refusals.push({ brandCode, type, reportDeadline: results[j]!.reportDeadline }));
      }
    } finally {
      await marks; // settled (or rejected: thrown to the door) before the answer either way
    }
    for (const r of refuse) this.#confirm(r.recipient, r.brands);
    return out;
  }

  /**
   * Records the refusal of `recipient` (canonical) for each brand × `inbound.types` through
   * recordRefusal (source HS_MESAJ, consentDate `at`). Used by the handler and by the review API's `refuse`.
   */
  async refuse(recipient: string, brandCodes: readonly number[], at: Date, recipientType: RecipientType = this.deps.config.recipientType): Promise<InboundOutcome['refusals']> {
    const out: InboundOutcome['refusals'] = [];
    const all = brandCodes.flatMap((brandCode) => this.deps.config.types.map((type) => ({ brandCode, type })));
    const results = await recordRefusals(this.deps.refusals, all.map((r) => ({
      brandCode: r.brandCode, recipient, type: r.type, recipientType, source: 'HS_MESAJ' as const, receivedAt: at,
    })));
    results.forEach((res, i) => out.push({ brandCode: all[i]!.brandCode, type: all[i]!.type, reportDeadline: res.reportDeadline }));
    return out;
  }

  /** Sends at most one confirmation per number + brand + Istanbul day (claimed durably first); never throws. */
  #confirm(recipient: string, brandCodes: readonly number[]): void {
    const send = this.deps.confirm;
    if (!send) return;
    const day = istanbulDate(new Date(this.deps.refusals.now()));
    for (const b of brandCodes) {
      // the key holds a hash of the number, not the number (the state log is not a list of numbers)
      void this.deps.state.claimConfirmation(`${createHash('sha256').update(recipient).digest('base64url').slice(0, 22)}:${b}:${day}`)
        .then((claimed) => (claimed ? send(recipient, b) : undefined))
        .catch((err) => this.deps.onConfirmError?.(err));
    }
  }

  #reviewItem(key: string, msg: InboundReply, at: Date, reason: ReviewReason, brandCodes: number[]): ReviewItem {
    const day = istanbulDate(at);
    let due: string;
    try { due = addBusinessDays(day, 1, this.deps.refusals.halfDayPolicy ? { halfDayPolicy: this.deps.refusals.halfDayPolicy } : {}); } catch { due = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10); }
    return {
      id: randomUUID(), from: msg.from, to: msg.to, text: msg.text.slice(0, 2000), receivedAt: at.toISOString(), messageKey: key, via: msg.via,
      reason, brandCodes, dueDate: due, state: 'open',
    };
  }
}

/**
 * Transport-neutral entry point of every inbound door (stable name and shape; the SMPP front calls
 * it for `deliver_sm` MO messages): `handleInboundReply(app.inbound, {from, to, text, receivedAt, messageId, via})`.
 * @see InboundReplies.handle
 */
export function handleInboundReply(replies: InboundReplies, msg: InboundReply): Promise<InboundOutcome> {
  return replies.handle(msg);
}
