import type { ContentMissing, SenderIdentity } from '../domain/content-check.ts';
import { decide, needsBireyselRecord, type DecisionResult, type PolicyOptions, type PolicyRecord } from '../domain/policy.ts';
import { normalizeRecipient, type NormalizedRecipient } from '../domain/recipient.ts';
import type {
  ConsentKey, ConsentRecord, ConsentType, Decision, MessageType, Reason, RecipientType,
} from '../domain/types.ts';
import { toIstanbulIso } from '../domain/turkish-time.ts';
import { gatewayError } from '../errors.ts';
import type { ConsentStore } from '../mirror/consent-store.ts';
import { withDeadline } from '../mirror/deadline.ts';
import type { DecisionLog, RecordContext } from './decision-log/decision-log.ts';

/** One check request after validation and brand resolution. */
export interface CheckRequest {
  brandCode: number;
  recipient: string;
  type: ConsentType;
  recipientType: RecipientType;
  messageType: MessageType;
  retailerCode?: number | null | undefined;
}

/** Answer of /v1/check (API.md). */
export interface CheckAnswer {
  decision: Decision;
  reason: Reason;
  recipient: string;
  consent: null | {
    status: string; source: string | null; consentDate: string | null;
    creationDate: string | null; transactionId: string | null;
  };
  asOf: string | null;
  /** Id of the decision's record in the decision log (README "Proving decisions"); absent when the log is off. */
  decisionId?: string;
}

/** One result of /v1/check/batch (API.md). */
export interface BatchResult { input: string; recipient: string | null; decision: Decision; reason: Reason }

export interface CheckServiceOptions {
  store: ConsentStore;
  policy: PolicyOptions;
  /** Freshness bound in ms; 0 disables MIRROR_STALE. */
  mirrorMaxAgeMs: number;
  /**
   * Max time in ms a store lookup may take before the answer fails closed, on top of the store's
   * own bound for the lookup (`ConsentStore.readBoundMs`, when it has one). Default 200.
   */
  lookupTimeoutMs?: number;
  /** Called once per decision (metrics). */
  onDecision?: (type: ConsentType, messageType: MessageType, decision: Decision, reason: Reason, count: number, brandCode: number, entrance: string) => void;
  /** Clock, for tests. */
  now?: () => number;
  /** The decision log; decisions are recorded when the caller passes a RecordContext. */
  decisions?: DecisionLog | null;
  /** The commercial content check every door's screening applies (config `policy.contentCheck`, `brands[].identity`; screening.ts). Default off. */
  contentCheck?: ContentCheckPolicy;
}

/** The commercial content check of screenOutbound (issue 14; domain/content-check.ts). */
export interface ContentCheckPolicy {
  mode: 'warn' | 'block' | 'off';
  /** Sender identity by brandCode (config `brands[].identity`). */
  identities: ReadonlyMap<number, SenderIdentity>;
  /** Called for each TICARI message missing something (metrics). */
  onMissing?: (entrance: string, missing: readonly ContentMissing[]) => void;
}

/**
 * The decision engine: normalizes recipients, reads the mirror (one lookup, or one batched lookup
 * for a list), applies domain/policy.ts and answers. A TICARI check to TACIR also reads the
 * BIREYSEL record of each address in the same batched read when the policy needs it
 * (`tacirOverBireyselRet: block`, domain/policy.ts `needsBireyselRecord`). Fails closed: a store error or a lookup slower
 * than `lookupTimeoutMs` gives TICARI a BLOCK `STORE_UNAVAILABLE`, never an ALLOW.
 */
export class CheckService {
  readonly #store: ConsentStore;
  readonly #opts: CheckServiceOptions;
  #freshAt: number | null = null;
  #asOf: string | null = null;

  constructor(opts: CheckServiceOptions) {
    this.#store = opts.store;
    this.#opts = opts;
  }

  /** The commercial content check (off when not configured): screenOutbound applies it. */
  get contentCheck(): ContentCheckPolicy | null { return this.#opts.contentCheck ?? null; }

  /** The decision log (null when off): screenOutbound records and commits through it. */
  get decisions(): DecisionLog | null { return this.#opts.decisions ?? null; }

  /** Records that the mirror was known fresh at `atMs` (epoch ms): after an import or a sync pull. */
  markFresh(atMs: number): void { this.#freshAt = atMs; this.#asOf = toIstanbulIso(new Date(atMs)); }
  /** Epoch ms the mirror was last known fresh, or null. */
  get freshAt(): number | null { return this.#freshAt; }

  /** True when the freshness bound is set and passed. */
  isStale(): boolean {
    const max = this.#opts.mirrorMaxAgeMs;
    if (max === 0) return false;
    const now = (this.#opts.now ?? Date.now)();
    return this.#freshAt === null || now - this.#freshAt > max;
  }

  /**
   * Decides one message.
   * @throws GW_ERR_INVALID_RECIPIENT (400, field `recipient`) when the recipient cannot be normalized.
   */
  async check(req: CheckRequest): Promise<CheckAnswer> {
    return this.checkNow(req);
  }

  /**
   * `check` without a promise when the store can answer at once (the embedded store; a warm
   * in-process cache in front of Redis): the answer itself, else a promise of it (one lookup).
   * Lets a route answer without a promise on the hot path.
   * @throws GW_ERR_INVALID_RECIPIENT synchronously, as `check` rejects
   */
  checkNow(req: CheckRequest, rec?: RecordContext): CheckAnswer | Promise<CheckAnswer> {
    return this.#checkNow(req, rec, rec?.entrance ?? 'other');
  }

  /**
   * What `check` would answer now, neither counted (`onDecision`) nor recorded in the decision
   * log: the console's Lookup page shows it to an operator, no message is being sent.
   * @throws GW_ERR_INVALID_RECIPIENT as `check`
   */
  async preview(req: CheckRequest): Promise<CheckAnswer> {
    return this.#checkNow(req, undefined, null);
  }

  /** `tally`: the entrance to count the decision under (onDecision), null for none. */
  #checkNow(req: CheckRequest, rec: RecordContext | undefined, tally: string | null): CheckAnswer | Promise<CheckAnswer> {
    const log = rec ? this.#opts.decisions : null;
    if (log) log.assertWritable();
    else rec = undefined;
    const n = this.#normalize(req);
    const key = keyOf(req, n.canonical);
    const now = this.#recordNow(key);
    if (!needsBireyselRecord(req.recipientType, req.messageType, this.#opts.policy)) {
      if (now !== undefined) return this.#answer(req, n, rec, tally, now);
      return this.#lookup([key]).then((got) => this.#answer(req, n, rec, tally, got === 'unavailable' ? got : got[0] ?? null));
    }
    // TACIR: the BIREYSEL record matters only when there is no TACIR record (policy.ts)
    if (now !== undefined && now !== null) return this.#answer(req, n, rec, tally, now);
    const ind = { ...key, recipientType: 'BIREYSEL' as const };
    const indNow = now === null ? this.#recordNow(ind) : undefined;
    if (now === null && indNow !== undefined) return this.#answer(req, n, rec, tally, now, indNow);
    return this.#lookup([key, ind]).then((got) => got === 'unavailable'
      ? this.#answer(req, n, rec, tally, got, got)
      : this.#answer(req, n, rec, tally, got[0] ?? null, got[1] ?? null));
  }

  #normalize(req: CheckRequest): NormalizedRecipient & { ok: true } {
    const n = normalizeRecipient(req.recipient, req.type);
    if (!n.ok) throw gatewayError('GW_ERR_INVALID_RECIPIENT', [n.message], { field: 'recipient' });
    return n;
  }

  /** The record when the store answers synchronously, else undefined. */
  #recordNow(key: ConsentKey): ConsentRecord | null | undefined {
    const store = this.#store;
    if (store.getSync) {
      try { return store.getSync(key); } catch { return undefined; } // the async path answers (or fails closed)
    }
    // a warm cache answers synchronously: no promise race, no timer, no round trip
    return store.peekCached?.(key);
  }

  #answer(req: CheckRequest, n: NormalizedRecipient & { ok: true }, rec: RecordContext | undefined, tally: string | null, record: ConsentRecord | null | 'unavailable', bireysel?: PolicyRecord | null | 'unavailable'): CheckAnswer {
    const { decision, reason } = this.#decide(req, n, record, bireysel, tally);
    const consent = record && record !== 'unavailable'
      ? { status: record.status, source: record.source, consentDate: record.consentDate, creationDate: record.creationDate, transactionId: record.transactionId }
      : null;
    const answer: CheckAnswer = { decision, reason, recipient: n.canonical, consent, asOf: this.asOf() };
    if (rec) {
      const log = this.#opts.decisions!;
      const seq = log.newSeq();
      const ctx = rec as RecordContext & { contextId?: number };
      ctx.contextId ??= log.contextId(rec.keyName, rec.via);
      log.record(ctx as RecordContext & { contextId: number }, seq, 0, (this.#opts.now ?? Date.now)(), this.#freshAt ?? 0, req, decision, reason, record, n.canonical, req.recipient);
      answer.decisionId = log.idOf(seq);
    }
    return answer;
  }

  /**
   * Decides one message for each recipient, with one batched store lookup. Results keep request
   * order; an input that cannot be normalized is `BLOCK INVALID_RECIPIENT` (API.md).
   */
  async checkBatch(req: Omit<CheckRequest, 'recipient'>, recipients: readonly string[], rec?: RecordContext): Promise<{ results: BatchResult[]; counts: { ALLOW: number; BLOCK: number }; asOf: string | null; decisionId?: string }> {
    const log = rec ? this.#opts.decisions : null;
    log?.assertWritable();
    const norm = new Array<NormalizedRecipient>(recipients.length);
    const keys: ConsentKey[] = [];
    const keyIdx: number[] = [];
    for (let i = 0; i < recipients.length; i++) {
      const n = normalizeRecipient(recipients[i]!, req.type);
      norm[i] = n;
      if (n.ok) { keys.push(keyOf(req, n.canonical)); keyIdx.push(i); }
    }
    const records: (PolicyRecord | null | 'unavailable')[] = new Array(recipients.length).fill(null);
    // TACIR under tacirOverBireyselRet=block: each address's BIREYSEL key rides in the same read
    const ind: (PolicyRecord | null | 'unavailable')[] | null = needsBireyselRecord(req.recipientType, req.messageType, this.#opts.policy)
      ? new Array(recipients.length).fill(null) : null;
    // informational messages are exempt whatever the record says: no lookup at all
    if (keys.length > 0 && req.messageType !== 'BILGILENDIRME') {
      const m = keys.length;
      if (ind) for (let j = 0; j < m; j++) keys.push({ ...keys[j]!, recipientType: 'BIREYSEL' });
      const got = this.#store.peekMany ? this.#peekMany(keys) : await this.#lookup(keys, true);
      for (let j = 0; j < keyIdx.length; j++) {
        records[keyIdx[j]!] = got === 'unavailable' ? 'unavailable' : (got[j] ?? null);
        if (ind) ind[keyIdx[j]!] = got === 'unavailable' ? 'unavailable' : (got[m + j] ?? null);
      }
    }
    const results = new Array<BatchResult>(recipients.length);
    let allow = 0;
    const stale = this.isStale();
    const counts = new Map<DecisionResult, number>(); // results are shared constants: count per object
    for (let i = 0; i < recipients.length; i++) {
      const n = norm[i]!;
      const res = n.ok ? this.#policy(req, n, records[i]!, stale, ind?.[i]) : INVALID;
      counts.set(res, (counts.get(res) ?? 0) + 1);
      if (res.decision === 'ALLOW') allow++;
      results[i] = { input: recipients[i]!, recipient: n.ok ? n.canonical : null, decision: res.decision, reason: res.reason };
    }
    for (const [res, k] of counts) this.#opts.onDecision?.(req.type, req.messageType, res.decision, res.reason, k, req.brandCode, rec?.entrance ?? 'other');
    const out: { results: BatchResult[]; counts: { ALLOW: number; BLOCK: number }; asOf: string | null; decisionId?: string } = { results, counts: { ALLOW: allow, BLOCK: recipients.length - allow }, asOf: this.asOf() };
    if (log && rec) {
      rec.seq ??= log.newSeq();
      const ctx = rec as RecordContext & { contextId?: number };
      ctx.contextId ??= log.contextId(rec.keyName, rec.via);
      const base = rec.next ?? 0;
      const t = (this.#opts.now ?? Date.now)();
      const asOfMs = this.#freshAt ?? 0;
      for (let i = 0; i < results.length; i++) {
        const r = results[i]!;
        log.record(ctx as RecordContext & { contextId: number }, rec.seq, base + i, t, asOfMs, req, r.decision, r.reason, records[i]!, r.recipient, r.input);
      }
      rec.next = base + results.length;
      out.decisionId = log.idOf(rec.seq);
    }
    return out;
  }

  /** `asOf` of answers: ISO 8601 with +03:00, or null when the mirror was never known fresh. */
  asOf(): string | null {
    return this.#asOf;
  }

  #decide(req: Omit<CheckRequest, 'recipient'>, n: NormalizedRecipient & { ok: true }, record: PolicyRecord | null | 'unavailable', bireysel: PolicyRecord | null | 'unavailable' | undefined, tally: string | null) {
    const res = this.#policy(req, n, record, this.isStale(), bireysel);
    if (tally !== null) this.#opts.onDecision?.(req.type, req.messageType, res.decision, res.reason, 1, req.brandCode, tally);
    return res;
  }

  #policy(req: Omit<CheckRequest, 'recipient'>, n: NormalizedRecipient & { ok: true }, record: PolicyRecord | null | 'unavailable', stale: boolean, bireyselRecord?: PolicyRecord | null | 'unavailable'): DecisionResult {
    return decide({
      type: req.type, recipientType: req.recipientType, messageType: req.messageType, retailerCode: req.retailerCode,
      smsCapable: n.smsCapable, registrable: n.registrable, record, stale, bireyselRecord,
    }, this.#opts.policy);
  }

  /** The embedded store's synchronous batch read; an error fails closed like a lookup timeout. */
  #peekMany(keys: ConsentKey[]): (PolicyRecord | null)[] | 'unavailable' {
    try { return this.#store.peekMany!(keys); } catch { return 'unavailable'; }
  }

  async #lookup(keys: ConsentKey[]): Promise<(ConsentRecord | null)[] | 'unavailable'>;
  async #lookup(keys: ConsentKey[], policyOnly: true): Promise<(PolicyRecord | null)[] | 'unavailable'>;
  async #lookup(keys: ConsentKey[], policyOnly = false): Promise<(PolicyRecord | null)[] | 'unavailable'> {
    // a backstop behind the store's own bound (scaled to the work, issue 12 item 7), which may
    // wait up to 2 × itself when the event loop was blocked (mirror/deadline.ts): never before it
    const ms = (this.#opts.lookupTimeoutMs ?? 200) + 4 * (this.#store.readBoundMs?.(keys.length) ?? 0);
    const store = this.#store;
    try {
      const read = policyOnly && store.getPolicyMany ? store.getPolicyMany(keys) : store.getMany(keys);
      return await withDeadline(read, ms, () => 'unavailable' as const);
    } catch {
      return 'unavailable';
    }
  }
}

const INVALID: DecisionResult = Object.freeze({ decision: 'BLOCK', reason: 'INVALID_RECIPIENT' });

function keyOf(req: Omit<CheckRequest, 'recipient'>, recipient: string): ConsentKey {
  return { brandCode: req.brandCode, recipientType: req.recipientType, type: req.type, recipient };
}
