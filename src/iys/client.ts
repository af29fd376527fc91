/**
 * The İYS client: typed calls for the operations iys-gate uses, with
 * - a shared {@link TokenBroker} (single-flight, refresh grant first, H084 back-off),
 * - a shared {@link RateBudget} (10/s, 1000/h status, 100/h history),
 * - retries with full jitter only for retryable answers (5xx, 429/H124, H123, H192, …; see
 *   `isRetryable`), never for other 4xx; network failures retried only for idempotent calls,
 * - one re-authentication after 401 H351 (token expired mid-run),
 * - local pre-validation with İYS's own rules (src/iys/consent-rules.ts), so an invalid record
 *   never reaches İYS (70 % success-rate rule),
 * - v2 writes by default (idempotent single write).
 *
 * Errors: GW_ERR_IYS_INVALID_CONSENT (local), GW_ERR_IYS_REJECTED (İYS 4xx, with `iysCodes`),
 * GW_ERR_IYS_RATE_LIMITED, GW_ERR_IYS_UNAVAILABLE, GW_ERR_IYS_TIMEOUT, GW_ERR_IYS_TOKEN_HALTED,
 * GW_ERR_IYS_AUTH, GW_ERR_IYS_BUDGET_EXHAUSTED — all {@link IysClientError}.
 */
import { request, type Dispatcher } from 'undici';
import { isWithinUploadWindow } from '../domain/calendar.ts';
import type { ConsentType, RecipientType } from '../domain/types.ts';
import { BATCH_MAX_ITEMS, collapseBatch, recipientErrors, validateConsent, type ConsentInput } from './consent-rules.ts';
import { hasIysCode, iysClientError, type IysClientError } from './client-errors.ts';
import { hError, isRetryable, type IysErrorItem } from './h-codes.ts';
import { RateBudget, sharedRateBudget, type BudgetKind } from './rate-budget.ts';
import { sharedTokenBroker, TokenBroker } from './token-broker.ts';
import type {
  AddConsentResult, AgreementInfo, BatchItemResult, BatchOutcome, BatchSubmitResult, BrandInfo, ConsentKeyQuery,
  ChangeSummary, ConsentStatusResult, HistoryPage, PullPage, PushConnection, RefusalOutcome, SubscriptionInfo,
} from './types.ts';

export interface IysClientOptions {
  /** İYS base URL (`https://api.iys.org.tr`) or the simulator's. */
  baseUrl: string;
  /** The provider's İYS number. */
  iysCode: number;
  username: string;
  password: string;
  /** Rate budget; default: the process-wide budget of the İYS host ({@link sharedRateBudget}). */
  budget?: RateBudget;
  /**
   * Whether this process may send to İYS now (a fleet: LeaderLease.isLeader), checked before the
   * token and again right before every attempt leaves (retries included), so a leader paused past
   * its lease sends nothing when it resumes. Refused: an Error with code `FENCED`, not retried.
   * Default: always.
   */
  canSend?: () => boolean;
  /** Token broker; default: the process-wide broker of (baseUrl, username). */
  broker?: TokenBroker;
  /** Per-request timeout in ms; default 10 000. */
  timeoutMs?: number;
  /** Retries after the first attempt; default 3. */
  maxRetries?: number;
  /** Back-off base and cap in ms; defaults 200 and 10 000 (full jitter: random × min(cap, base·2^n)). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Pause of the shared budget after a 429, in ms; default 1000. */
  pauseOn429Ms?: number;
  /** Use v2 write endpoints (default true). */
  preferV2?: boolean;
  /** Run İYS's rules locally before writes (default true). */
  preValidate?: boolean;
  /** Clock for pre-validation (H162/H467) in epoch ms; default Date.now. */
  now?: () => number;
  /** Injectable sleep and random (tests). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  dispatcher?: Dispatcher;
  /** Called with each new clock-skew measurement (ms, İYS − client; see `IysClient.clockSkewMs`). */
  onClockSkew?: (skewMs: number) => void;
}

interface CallSpec {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  kind?: BudgetKind;
  /** Safe to resend after a network failure. */
  idempotent: boolean;
}

interface CallResult {
  status: number;
  body: unknown;
  text: string;
}

/** Most movements one pull page returns (İYS `limit` ≤ 1000, H507). */
export const PULL_MAX_LIMIT = 1000;
/** The pull feed covers the last 7 days… */
export const PULL_WINDOW_MS = 7 * 86_400_000;
/** …minus the newest 60 minutes (iys-reference.md §2.7). */
export const PULL_LAG_MS = 60 * 60_000;

/**
 * True when a pull cursor last advanced at `lastPullAt` can no longer be trusted to catch up:
 * the feed keeps 7 days, so after ~7 days minus a safety margin (default 6 h) a full resync
 * (multi-status or the daily files) is needed (field case C13).
 */
export function isCursorStale(lastPullAt: Date, now: Date, marginMs = 6 * 3_600_000): boolean {
  return now.getTime() - lastPullAt.getTime() > PULL_WINDOW_MS - marginMs;
}

/** Splits batch results by outcome (field case C11). An empty list means "not processed yet". */
export function classifyBatchResults(results: readonly BatchItemResult[]): BatchOutcome {
  const out: BatchOutcome = { succeeded: [], failed: [], pending: [], notReady: results.length === 0 };
  for (const r of results) {
    if (r.status === 'success' && r.transactionId) {
      out.succeeded.push({ index: r.index, transactionId: r.transactionId, ...(r.creationDate ? { creationDate: r.creationDate } : {}) });
    } else if (r.status === 'failure') {
      out.failed.push({ index: r.index, code: r.error?.code ?? 'UNKNOWN', message: r.error?.message ?? '' });
    } else out.pending.push(r.index);
  }
  return out;
}

export class IysClient {
  readonly budget: RateBudget;
  readonly broker: TokenBroker;
  private readonly o: Required<Pick<IysClientOptions, 'timeoutMs' | 'maxRetries' | 'retryBaseMs' | 'retryMaxMs' | 'pauseOn429Ms' | 'preferV2' | 'preValidate'>>;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** Requests sent to İYS (attempts, incl. retries). */
  attempts = 0;
  private readonly canSend: (() => boolean) | undefined;
  /**
   * Clock skew against İYS, from the `Date` header of its last answer: İYS's time minus this
   * client's `now` (ms; positive = İYS ahead), ±~500 ms (the header has whole seconds, taken as
   * the middle of its second). null until an answer carried a readable `Date`.
   */
  clockSkewMs: number | null = null;
  /** Epoch ms (client clock) of the answer `clockSkewMs` was measured on. */
  clockSkewAt: number | null = null;

  constructor(private readonly opts: IysClientOptions) {
    this.budget = opts.budget ?? sharedRateBudget(new URL(opts.baseUrl).host);
    this.now = opts.now ?? Date.now;
    this.canSend = opts.canSend;
    this.broker = opts.broker ?? sharedTokenBroker({
      baseUrl: opts.baseUrl, username: opts.username, password: opts.password, budget: this.budget, now: this.now,
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
    });
    this.o = {
      timeoutMs: opts.timeoutMs ?? 10_000, maxRetries: opts.maxRetries ?? 3, retryBaseMs: opts.retryBaseMs ?? 200,
      retryMaxMs: opts.retryMaxMs ?? 10_000, pauseOn429Ms: opts.pauseOn429Ms ?? 1000, preferV2: opts.preferV2 ?? true,
      preValidate: opts.preValidate ?? true,
    };
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = opts.random ?? Math.random;
  }

  private sps(brandCode: number, rest: string, v2 = false): string {
    return `${v2 ? '/v2' : ''}/sps/${this.opts.iysCode}/brands/${brandCode}${rest}`;
  }

  // --- validation -----------------------------------------------------------------------------

  /**
   * İYS's field rules on `consent` at the client's now.
   * @returns error items (empty when İYS would accept the fields)
   */
  check(consent: unknown, index?: number): IysErrorItem[] {
    return validateConsent(consent, {
      now: new Date(this.now()), withinUploadWindow: isWithinUploadWindow, ...(index === undefined ? {} : { index }),
    });
  }

  private assertValid(consent: unknown, index?: number): void {
    if (!this.o.preValidate) return;
    const errs = this.check(consent, index);
    if (errs.length) throw iysClientError('GW_ERR_IYS_INVALID_CONSENT', [errs.map((e) => e.code).join(',')], { errors: errs });
  }

  // --- writes ---------------------------------------------------------------------------------

  /**
   * Registers one consent (v2 by default: idempotent, so it is retried after network failures).
   * @param brandCode the brand's İYS number
   * @param consent İYS `Consent` body (recipient canonical: `+905…` or lower-case e-mail)
   * @param opts.v1 use the v1 endpoint (not idempotent: no retry after a network failure)
   * @returns `{transactionId (64 hex), creationDate}`
   * @throws GW_ERR_IYS_INVALID_CONSENT before any call; GW_ERR_IYS_REJECTED with `iysCodes`
   *   (H174, H175, H178, H462, H463, H467, H180, H525 …)
   */
  async addConsent(brandCode: number, consent: ConsentInput, opts: { v1?: boolean } = {}): Promise<AddConsentResult> {
    this.assertValid(consent);
    const v2 = this.o.preferV2 && !opts.v1;
    const r = await this.call({ method: 'POST', path: this.sps(brandCode, '/consents', v2), body: consent, idempotent: v2 });
    return r.body as AddConsentResult;
  }

  /**
   * Reports a refusal the provider collected (status RET), idempotently (field case C05):
   * H174 (already RET) is success, H175 (no record in İYS) is `nothing_to_revoke`; neither is
   * retried. Other refusals throw as {@link addConsent}.
   */
  async reportRefusal(brandCode: number, consent: Omit<ConsentInput, 'status'>): Promise<RefusalOutcome> {
    try {
      const r = await this.addConsent(brandCode, { ...consent, status: 'RET' });
      return { outcome: 'registered', ...r };
    } catch (e) {
      if (hasIysCode(e, 'H174')) return { outcome: 'already_refused', code: 'H174' };
      if (hasIysCode(e, 'H175')) return { outcome: 'nothing_to_revoke', code: 'H175' };
      throw e;
    }
  }

  /**
   * Submits up to 1000 consents asynchronously (v2 by default). Repeats of one key are collapsed
   * to the newest first (C11), every item is pre-validated.
   * @returns requestId (poll no earlier than 300 s), subRequests and the dropped indexes
   * @throws GW_ERR_IYS_INVALID_CONSENT (items carry `index` into the collapsed list) or H091
   *   locally for more than 1000 items; GW_ERR_IYS_REJECTED for İYS's synchronous refusals
   */
  async addConsentBatch(brandCode: number, consents: readonly ConsentInput[], opts: { v1?: boolean } = {}): Promise<BatchSubmitResult> {
    const { items, dropped } = collapseBatch(consents);
    if (items.length > BATCH_MAX_ITEMS) {
      throw iysClientError('GW_ERR_IYS_INVALID_CONSENT', ['H091'], { errors: [hError('H091')] });
    }
    if (this.o.preValidate) {
      const errs = items.flatMap((c, i) => this.check(c, i));
      if (errs.length) throw iysClientError('GW_ERR_IYS_INVALID_CONSENT', [errs.map((e) => e.code).join(',')], { errors: errs });
    }
    const v2 = this.o.preferV2 && !opts.v1;
    const r = await this.call({ method: 'POST', path: this.sps(brandCode, '/consents/request', v2), body: items, idempotent: false });
    return { ...(r.body as Omit<BatchSubmitResult, 'dropped'>), dropped };
  }

  /**
   * Results of a batch. An empty list means "not processed yet" (not a failure); poll no
   * earlier than 300 s after submitting.
   */
  async getBatchResults(brandCode: number, requestId: string, opts: { v1?: boolean } = {}): Promise<BatchItemResult[]> {
    const v2 = this.o.preferV2 && !opts.v1;
    const r = await this.call({ method: 'GET', path: this.sps(brandCode, `/consents/request/${encodeURIComponent(requestId)}`, v2), idempotent: true });
    return r.body as BatchItemResult[];
  }

  /** {@link getBatchResults} split by outcome (C11). */
  async pollBatch(brandCode: number, requestId: string): Promise<BatchOutcome> {
    return classifyBatchResults(await this.getBatchResults(brandCode, requestId));
  }

  // --- reads ----------------------------------------------------------------------------------

  /**
   * The current record of one key (counts against the 1000/h status budget).
   * @returns the record, or null when İYS holds none
   */
  async getConsentStatus(brandCode: number, key: ConsentKeyQuery): Promise<ConsentStatusResult | null> {
    this.assertKey(key);
    const r = await this.call({ method: 'POST', path: this.sps(brandCode, '/consents/status'), body: key, kind: 'status', idempotent: true });
    const b = r.body as Partial<ConsentStatusResult> | null;
    return b && typeof b.status === 'string' ? (b as ConsentStatusResult) : null;
  }

  /**
   * Which of up to 1000 recipients hold ONAY for (recipientType, type); anything not listed is
   * RET or unknown. Checked locally first: form matching the type (H464), valid address
   * (H120/H121/H166), no repeats (H193).
   */
  async getConsentStatuses(brandCode: number, recipientType: RecipientType, type: ConsentType, recipients: readonly string[]): Promise<{ requestId: string; list: string[] }> {
    if (recipients.length === 0 || recipients.length > BATCH_MAX_ITEMS) {
      throw iysClientError('GW_ERR_IYS_INVALID_CONSENT', [recipients.length === 0 ? 'H164' : 'H127'], { errors: [hError(recipients.length === 0 ? 'H164' : 'H127')] });
    }
    if (this.o.preValidate) {
      const errs: IysErrorItem[] = [];
      const seen = new Set<string>();
      recipients.forEach((r, i) => {
        if ((type === 'EPOSTA') !== r.includes('@')) errs.push(hError('H464', { location: ['recipients', i], value: r }));
        else for (const c of recipientErrors(r, type, 'query')) errs.push(hError(c, { location: ['recipients', i], value: r }));
        const k = type === 'EPOSTA' ? r.toLowerCase() : r;
        if (seen.has(k)) errs.push(hError('H193', { location: ['recipients', i], value: r }));
        seen.add(k);
      });
      if (errs.length) throw iysClientError('GW_ERR_IYS_INVALID_CONSENT', [errs.map((e) => e.code).join(',')], { errors: errs });
    }
    const r = await this.call({ method: 'POST', path: this.sps(brandCode, `/consents/${recipientType}/status/${type}`), body: { recipients }, idempotent: true });
    return r.body as { requestId: string; list: string[] };
  }

  /** History of one key, newest consentDate first (100/h budget; limit 1–100). */
  async getConsentHistory(brandCode: number, key: ConsentKeyQuery, page: { limit?: number; offset?: number } = {}): Promise<HistoryPage> {
    this.assertKey(key);
    const r = await this.call({
      method: 'POST', path: this.sps(brandCode, '/consents/history'), body: key, kind: 'history', idempotent: true,
      query: { limit: page.limit, offset: page.offset },
    });
    return r.body as HistoryPage;
  }

  /**
   * One page of the changes feed (last 7 days, newest 60 minutes hidden).
   * @param q.source `HS` (the provider's own writes) or `IYS` (citizens' acts; İYS's default)
   * @param q.after the cursor of the previous page; store it durably
   * @returns the page, or null when nothing happened (204) — keep the old cursor then
   */
  async pullChanges(brandCode: number, q: { source: 'HS' | 'IYS'; limit?: number; after?: string }): Promise<PullPage | null> {
    if (q.limit !== undefined && (q.limit < 1 || q.limit > PULL_MAX_LIMIT)) {
      throw iysClientError('GW_ERR_IYS_INVALID_CONSENT', ['H507'], { errors: [hError('H507')] });
    }
    const r = await this.call({
      method: 'GET', path: this.sps(brandCode, '/consents/changes'), idempotent: true,
      query: { source: q.source, limit: q.limit, after: q.after },
    });
    return r.status === 204 ? null : (r.body as PullPage);
  }

  /** Report dates are `YYYY-MM-DD` (H501), checked locally. */
  private assertReportDate(reportDate: string): void {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(reportDate) || Number.isNaN(Date.parse(`${reportDate}T00:00:00Z`))) {
      throw iysClientError('GW_ERR_IYS_INVALID_CONSENT', ['H501'], { errors: [hError('H501', { location: ['reportDate'], value: reportDate })] });
    }
  }

  /** The brand's daily movement file (CSV text), or null when the day had none (204). */
  async getDailyFile(brandCode: number, reportDate: string): Promise<string | null> {
    this.assertReportDate(reportDate);
    const r = await this.call({ method: 'GET', path: this.sps(brandCode, `/changes/${reportDate}/file`), idempotent: true });
    return r.status === 204 ? null : r.text;
  }

  /** İYS's SHA-384 agreement info for a day, or null when the day had no movements (204). */
  async getAgreement(brandCode: number, reportDate: string): Promise<AgreementInfo | null> {
    this.assertReportDate(reportDate);
    const r = await this.call({ method: 'GET', path: this.sps(brandCode, `/agreements/${reportDate}`), idempotent: true });
    return r.status === 204 ? null : (r.body as AgreementInfo);
  }

  /** Confirms the agreement of a day (after the hashes matched). @returns true when captured */
  async confirmAgreement(brandCode: number, reportDate: string): Promise<boolean> {
    this.assertReportDate(reportDate);
    const r = await this.call({ method: 'PUT', path: this.sps(brandCode, `/agreements/${reportDate}`), body: { agreementStatus: true }, idempotent: true });
    const b = r.body as { agreementCaptured?: boolean; aggrementCaptured?: boolean } | null;
    return b?.agreementCaptured === true || b?.aggrementCaptured === true;
  }

  /** Registers push receivers (https, Basic auth, ≤ 2 per type). */
  async registerPush(brandCode: number, connections: readonly PushConnection[]): Promise<void> {
    await this.call({ method: 'POST', path: this.sps(brandCode, '/push/registration'), body: { connection: connections }, idempotent: true });
  }

  /** Registered push receivers of a brand. */
  async listPush(brandCode: number): Promise<{ url: string; type: string; status: string; registerTime: string }[]> {
    const r = await this.call({ method: 'GET', path: this.sps(brandCode, '/push/registration'), idempotent: true });
    return r.body as { url: string; type: string; status: string; registerTime: string }[];
  }

  /** Removes one push receiver. */
  async unregisterPush(brandCode: number, connection: PushConnection): Promise<void> {
    await this.call({ method: 'POST', path: this.sps(brandCode, '/push/unregistration'), body: connection, idempotent: true });
  }

  /**
   * Daily reconciliation summary: per type, HS and IYS counts of approvals, rejections and
   * pending movements of that day.
   */
  async getChangeSummary(brandCode: number, reportDate: string, recipientType: RecipientType): Promise<ChangeSummary> {
    this.assertReportDate(reportDate);
    const r = await this.call({ method: 'GET', path: this.sps(brandCode, `/changes/${reportDate}/recipients/${recipientType}`), idempotent: true });
    return r.body as ChangeSummary;
  }

  /** The provider's subscription (allowed even while PAUSED/EXPIRED). */
  async getSubscription(): Promise<SubscriptionInfo> {
    const r = await this.call({ method: 'GET', path: `/sps/${this.opts.iysCode}/subscription`, idempotent: true });
    return r.body as SubscriptionInfo;
  }

  /** The provider's brands. */
  async listBrands(): Promise<BrandInfo[]> {
    const r = await this.call({ method: 'GET', path: `/sps/${this.opts.iysCode}/brands`, idempotent: true });
    return r.body as BrandInfo[];
  }

  private assertKey(key: ConsentKeyQuery): void {
    if (!this.o.preValidate) return;
    const errs = recipientErrors(key.recipient, key.type, 'query').map((c) => hError(c, { location: ['recipient'], value: key.recipient }));
    if (errs.length) throw iysClientError('GW_ERR_IYS_INVALID_CONSENT', [errs.map((e) => e.code).join(',')], { errors: errs });
  }

  // --- transport ------------------------------------------------------------------------------

  #measureSkew(date: string | string[] | undefined): void {
    const d = typeof date === 'string' ? Date.parse(date) : NaN;
    if (Number.isNaN(d)) return;
    const local = this.now();
    this.clockSkewMs = d + 500 - local;
    this.clockSkewAt = local;
    this.opts.onClockSkew?.(this.clockSkewMs);
  }

  private backoff(attempt: number, retryAfterMs: number | null): number {
    const exp = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** attempt);
    const jitter = Math.floor(this.random() * exp);
    return Math.max(jitter, retryAfterMs ?? 0);
  }

  /**
   * Sends one operation with budget, token, retries and re-authentication.
   * @returns status (2xx) and parsed body
   */
  private async call(spec: CallSpec): Promise<CallResult> {
    let attempt = 0;
    let reauthed = false;
    const gate = () => {
      if (this.canSend && !this.canSend()) throw Object.assign(new Error('this instance no longer leads İYS work (lease lost): nothing sent'), { code: 'FENCED' });
    };
    for (;;) {
      gate();
      let token: string;
      try {
        // Token first: the per-second slot is taken right before the request leaves.
        token = await this.broker.getAccessToken();
        await this.budget.acquire(spec.kind ?? 'default');
      } catch (e) {
        const code = (e as IysClientError).code;
        if ((code === 'GW_ERR_IYS_UNAVAILABLE' || code === 'GW_ERR_IYS_TIMEOUT') && attempt < this.o.maxRetries) {
          await this.sleep(this.backoff(attempt++, null));
          continue;
        }
        throw e;
      }
      const url = new URL(spec.path, this.opts.baseUrl);
      for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
      let res: CallResult;
      let retryAfterMs: number | null = null;
      gate();
      this.attempts++;
      try {
        const r = await request(url, {
          method: spec.method,
          headers: {
            authorization: `Bearer ${token}`, accept: 'application/json',
            ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
          signal: AbortSignal.timeout(this.o.timeoutMs),
          ...(this.opts.dispatcher ? { dispatcher: this.opts.dispatcher } : {}),
        });
        const text = await r.body.text();
        let body: unknown = null;
        if (text && String(r.headers['content-type'] ?? '').includes('json')) {
          try { body = JSON.parse(text); } catch { body = text; }
        }
        this.#measureSkew(r.headers.date);
        const ra = r.headers['retry-after'];
        if (typeof ra === 'string' && /^\d+$/.test(ra)) retryAfterMs = Number(ra) * 1000;
        res = { status: r.statusCode, body, text };
      } catch (e) {
        const name = (e as Error).name;
        const timeout = name === 'TimeoutError' || name === 'AbortError';
        if (spec.idempotent && attempt < this.o.maxRetries) {
          await this.sleep(this.backoff(attempt++, null));
          continue;
        }
        throw timeout
          ? iysClientError('GW_ERR_IYS_TIMEOUT', [this.o.timeoutMs], { cause: e })
          : iysClientError('GW_ERR_IYS_UNAVAILABLE', [(e as Error).message], { cause: e });
      }
      if (res.status >= 200 && res.status < 300) return res;
      const errors = ((res.body as { errors?: IysErrorItem[] } | null)?.errors ?? []).map((e) => ({
        ...e, code: e.code ?? (e as unknown as Record<string, string>)['code:'] ?? '',
      }));
      const codes = errors.map((e) => e.code);
      if (res.status === 401 && !reauthed) {
        reauthed = true;
        this.broker.invalidate(token);
        continue;
      }
      if (res.status === 429) this.budget.pause(retryAfterMs ?? this.o.pauseOn429Ms);
      if (isRetryable(res.status, codes) && attempt < this.o.maxRetries) {
        await this.sleep(this.backoff(attempt++, retryAfterMs));
        continue;
      }
      if (res.status === 429) throw iysClientError('GW_ERR_IYS_RATE_LIMITED', [codes.join(',') || '429'], { status: res.status, errors });
      if (res.status >= 500) throw iysClientError('GW_ERR_IYS_UNAVAILABLE', [`HTTP ${res.status} ${codes.join(',')}`], { status: res.status, errors });
      if (res.status === 401) throw iysClientError('GW_ERR_IYS_AUTH', [codes.join(',') || 'HTTP 401'], { status: res.status, errors });
      throw iysClientError('GW_ERR_IYS_REJECTED', [res.status, codes.join(',')], { status: res.status, errors });
    }
  }
}
