/**
 * The simulator's engine: accounts, tokens, rate windows, faults and the consent write path,
 * shared by the route plugins. Pure in-memory logic; time comes from the {@link SimClock}.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { isWithinUploadWindow } from '../domain/calendar.ts';
import type { ConsentStatus, ConsentType, RecipientType } from '../domain/types.ts';
import {
  storedRecipient, toIysDate, transitionError, validateConsent, type ConsentInput,
} from '../iys/consent-rules.ts';
import { hError, type HCode, type IysErrorItem } from '../iys/h-codes.ts';
import type { SimClock } from './clock.ts';
import type { SimAccount, SimulatorConfig } from './config.ts';
import { SimState, transactionIdFor, type SimBatch, type SimMovement } from './state.ts';

const HOUR = 3_600_000;

/** A fault armed through `/_sim/faults`. */
export interface SimFault {
  id: number;
  /** Regular expression (source) matched against the request path; absent = every İYS route. */
  path?: string;
  method?: string;
  /** `status`: answer `status` with İYS `code`; `drop`: destroy the socket; `delay`: answer late. */
  kind: 'status' | 'drop' | 'delay';
  status?: number;
  code?: string;
  /** Real ms to wait before handling (kind `delay`). */
  delayMs?: number;
  /** How many requests it applies to; absent = until cleared. */
  times?: number;
  hits: number;
}

interface TokenInfo { username: string; expMs: number }

/** Counters exposed at `/_sim/stats`. */
export interface SimStats {
  tokenRequests: number;
  passwordGrants: number;
  refreshGrants: number;
  requests: Record<string, number>;
  statuses: Record<string, number>;
}

/** Result of a write attempt: the movement, or errors with their HTTP status. */
export type WriteResult =
  | { ok: true; movement: SimMovement; unchanged?: boolean }
  | { ok: false; status: number; errors: IysErrorItem[] };

/**
 * The engine behind the routes: accounts, token store, rate windows (per IP), armed faults, the
 * state and the write path. One per simulator; time from `clock` (ms).
 */
export class SimContext {
  readonly accounts = new Map<string, SimAccount>();
  readonly state = new SimState();
  readonly faults: SimFault[] = [];
  readonly stats: SimStats = { tokenRequests: 0, passwordGrants: 0, refreshGrants: 0, requests: {}, statuses: {} };
  private readonly access = new Map<string, TokenInfo>();
  private readonly refresh = new Map<string, TokenInfo>();
  private readonly secret = randomBytes(32);
  private readonly tokenWindow = new Map<string, { stamps: number[]; penaltyUntil: number }>();
  private readonly secondWindow = new Map<string, { second: number; count: number }>();
  private readonly hourWindows = new Map<string, number[]>();
  private faultSeq = 0;
  /** Called with every new IYS_* movement (push delivery). */
  onIysMovement: (m: SimMovement) => void = () => {};

  constructor(readonly config: SimulatorConfig, readonly clock: SimClock, accounts: SimAccount[]) {
    for (const a of accounts) this.addAccount(a);
  }

  /** Adds (or replaces) an account; the simulator keeps its own copy. */
  addAccount(a: SimAccount): void {
    this.accounts.set(a.username, structuredClone(a));
  }

  accountByIysCode(iysCode: number): SimAccount | undefined {
    for (const a of this.accounts.values()) if (a.iysCode === iysCode) return a;
    return undefined;
  }

  nowIys(): string {
    return toIysDate(this.clock.now());
  }

  // --- tokens ---------------------------------------------------------------------------------

  /**
   * Counts a token request from `ip` against 100/h. Over the limit, or during the penalty, the
   * answer is H084 and the penalty hour restarts (reference §1).
   * @returns true when the request may proceed
   */
  tokenAllowed(ip: string): boolean {
    const limit = this.config.tokenPerHourLimit;
    if (limit === 0) return true;
    const now = this.clock.nowMs();
    const w = this.tokenWindow.get(ip) ?? { stamps: [], penaltyUntil: 0 };
    this.tokenWindow.set(ip, w);
    if (now < w.penaltyUntil) {
      w.penaltyUntil = now + HOUR;
      return false;
    }
    w.stamps = w.stamps.filter((s) => s > now - HOUR);
    if (w.stamps.length >= limit) {
      w.penaltyUntil = now + HOUR;
      return false;
    }
    w.stamps.push(now);
    return true;
  }

  /** Issues a token pair for an account (JWT shaped like İYS's Keycloak tokens). */
  issueTokens(a: SimAccount): { access_token: string; refresh_token: string; expires_in: number; refresh_expires_in: number; token_type: string } {
    const now = this.clock.nowMs();
    const access = this.jwt({
      exp: Math.floor((now + this.config.accessTokenTtlMs) / 1000), iat: Math.floor(now / 1000), jti: randomBytes(8).toString('hex'),
      typ: 'Bearer', preferred_username: a.username, realm_access: { roles: [a.role] },
      brands: a.brands.map((b) => ({ brandCode: b.brandCode, name: b.name })),
      serviceProvider: { title: a.title, iysCode: a.iysCode },
    });
    const refresh = this.jwt({ exp: Math.floor((now + this.config.refreshTokenTtlMs) / 1000), typ: 'Refresh', jti: randomBytes(8).toString('hex'), sub: a.username });
    this.access.set(access, { username: a.username, expMs: now + this.config.accessTokenTtlMs });
    this.refresh.set(refresh, { username: a.username, expMs: now + this.config.refreshTokenTtlMs });
    return {
      access_token: access, refresh_token: refresh, expires_in: Math.floor(this.config.accessTokenTtlMs / 1000),
      refresh_expires_in: Math.floor(this.config.refreshTokenTtlMs / 1000), token_type: 'bearer',
    };
  }

  /** Consumes a refresh token (rotation: each is valid once). @returns the account or undefined */
  useRefreshToken(token: string): SimAccount | undefined {
    const info = this.refresh.get(token);
    if (!info) return undefined;
    this.refresh.delete(token);
    if (info.expMs <= this.clock.nowMs()) return undefined;
    return this.accounts.get(info.username);
  }

  /** Account of a valid access token, or undefined (H351). */
  authenticate(token: string): SimAccount | undefined {
    const info = this.access.get(token);
    if (!info || info.expMs <= this.clock.nowMs()) return undefined;
    return this.accounts.get(info.username);
  }

  /** Expires every issued token at once (admin). */
  revokeAllTokens(): void {
    this.access.clear();
    this.refresh.clear();
  }

  private jwt(payload: object): string {
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
    return `${head}.${createHmac('sha256', this.secret).update(head).digest('base64url')}`;
  }

  // --- rate windows ---------------------------------------------------------------------------

  /** Counts a request against 10/s per IP. @returns false when over (H124). */
  perSecondAllowed(ip: string): boolean {
    const limit = this.config.perSecondLimit;
    if (limit === 0) return true;
    const second = Math.floor(this.clock.nowMs() / 1000);
    const w = this.secondWindow.get(ip);
    if (!w || w.second !== second) {
      this.secondWindow.set(ip, { second, count: 1 });
      return true;
    }
    w.count++;
    return w.count <= limit;
  }

  /** Counts a request against an hourly per-IP limit (`status` 1000/h H086, `history` 100/h H089). */
  hourlyAllowed(kind: 'status' | 'history', ip: string): boolean {
    const limit = kind === 'status' ? this.config.statusPerHourLimit : this.config.historyPerHourLimit;
    if (limit === 0) return true;
    const now = this.clock.nowMs();
    const k = `${kind}|${ip}`;
    const stamps = (this.hourWindows.get(k) ?? []).filter((s) => s > now - HOUR);
    this.hourWindows.set(k, stamps);
    if (stamps.length >= limit) return false;
    stamps.push(now);
    return true;
  }

  /** Forgets every rate window and token penalty (admin). */
  resetLimits(): void {
    this.tokenWindow.clear();
    this.secondWindow.clear();
    this.hourWindows.clear();
  }

  // --- faults ---------------------------------------------------------------------------------

  addFault(f: Omit<SimFault, 'id' | 'hits'>): SimFault {
    const fault: SimFault = { ...f, id: ++this.faultSeq, hits: 0 };
    this.faults.push(fault);
    return fault;
  }

  /** The first armed fault matching a request, consuming one of its `times`. */
  takeFault(method: string, path: string): SimFault | undefined {
    const i = this.faults.findIndex((f) => (!f.method || f.method.toUpperCase() === method)
      && (!f.path || new RegExp(f.path).test(path)));
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    f.hits++;
    if (f.times !== undefined && f.hits >= f.times) this.faults.splice(i, 1);
    return f;
  }

  // --- consent writes -------------------------------------------------------------------------

  /** Field validation with the simulator's clock and calendar (H467 per config). */
  validate(body: unknown, index?: number): IysErrorItem[] {
    return validateConsent(body, {
      now: this.clock.now(),
      ...(this.config.h467Enabled ? { withinUploadWindow: isWithinUploadWindow } : {}),
      h467ExemptSources: this.config.h467ExemptSources,
      ...(index === undefined ? {} : { index }),
    });
  }

  /** Dealer checks (H180): retailerCode and every retailerAccess element must be the account's. */
  dealerErrors(a: SimAccount, body: Record<string, unknown>): IysErrorItem[] {
    const errs: IysErrorItem[] = [];
    const check = (r: unknown, location: (string | number)[]): void => {
      if (typeof r !== 'number' || a.retailers.includes(r)) return;
      // Another provider's dealer: not matched to the user's permissions (H353); nobody's: H180.
      const foreign = [...this.accounts.values()].some((o) => o !== a && o.retailers.includes(r));
      errs.push(foreign
        ? { code: 'H353', message: 'retailerCode, kullanıcı izinleriyle eşleştiriliemiyor' }
        : hError('H180', { location, value: r }));
    };
    check(body.retailerCode, ['retailerCode']);
    if (Array.isArray(body.retailerAccess)) body.retailerAccess.forEach((r, i) => check(r, ['retailerAccess', i]));
    return errs;
  }

  /**
   * Applies a provider write (already field-validated) under the state rules and the quota.
   * @returns the new movement, or the H-code error (H175, H174, H178, H462, H463, H525)
   */
  applyProviderWrite(a: SimAccount, brandCode: number, body: ConsentInput): WriteResult {
    const recipientType = body.recipientType ?? 'BIREYSEL';
    const recipient = storedRecipient(body.recipient, body.type);
    const cur = this.state.get(a.iysCode, brandCode, recipientType, body.type, recipient);
    const err = transitionError(cur, { ...body, recipientType });
    if (err) return { ok: false, status: 400, errors: [err] };
    if (!cur && a.subscription.consentLimit > 0 && this.state.keysOf(a.iysCode) >= a.subscription.consentLimit) {
      return { ok: false, status: 422, errors: [hError('H525')] };
    }
    const movement = this.record({
      iysCode: a.iysCode, brandCode, recipient, recipientType, type: body.type, status: body.status,
      source: body.source ?? null, consentDate: body.consentDate ?? null,
      ...(body.retailerCode !== undefined ? { retailerCode: body.retailerCode } : {}),
      ...(body.retailerAccess !== undefined ? { retailerAccess: body.retailerAccess } : {}),
    });
    return { ok: true, movement };
  }

  /** Records a movement at the simulator's now (creationDate, shared same-second transactionId). */
  record(m: Omit<SimMovement, 'seq' | 'creationMs' | 'creationDate' | 'transactionId'> & { creationMs?: number; transactionId?: string }): SimMovement {
    const creationMs = m.creationMs ?? this.clock.nowMs();
    const mv = this.state.addMovement({
      ...m, creationMs, creationDate: toIysDate(new Date(creationMs)),
      transactionId: m.transactionId ?? transactionIdFor(m.brandCode, m.recipientType, m.type, m.recipient, Math.floor(creationMs / 1000)),
    });
    if (mv.source?.startsWith('IYS_')) this.onIysMovement(mv);
    return mv;
  }

  /**
   * A citizen's act through İYS (admin API): refusal/approval via IYS_MOBIL, IYS_KISAMESAJ, …;
   * `IYS_AHS_HAT_KAPATMA` is a RET carrying the stored consentDate (line closure).
   */
  citizenAct(a: SimAccount, brandCode: number, act: {
    recipient: string; type: ConsentType; recipientType: RecipientType; status: ConsentStatus; source: string;
    consentDate?: string; citizenName?: string;
  }): SimMovement {
    const recipient = storedRecipient(act.recipient, act.type);
    const cur = this.state.get(a.iysCode, brandCode, act.recipientType, act.type, recipient);
    const consentDate = act.source === 'IYS_AHS_HAT_KAPATMA'
      ? (cur?.consentDate ?? null)
      : (act.consentDate ?? this.nowIys());
    return this.record({
      iysCode: a.iysCode, brandCode, recipient, recipientType: act.recipientType, type: act.type,
      status: act.status, source: act.source, consentDate,
      ...(act.citizenName ? { citizenName: act.citizenName } : {}),
    });
  }

  // --- batches --------------------------------------------------------------------------------

  /** Processes every batch whose delay has passed (lazy, on the simulator clock). */
  processDueBatches(): void {
    const now = this.clock.nowMs();
    for (const b of this.state.batches.values()) {
      if (b.processed || now < b.submittedMs + this.config.batchDelayMs) continue;
      this.processBatch(b);
    }
  }

  private processBatch(b: SimBatch): void {
    const a = this.accountByIysCode(b.iysCode);
    let pending = false;
    for (const item of b.items) {
      if (item.result && item.result.status !== 'enqueue') continue;
      const body = item.body as unknown as ConsentInput;
      const recipient = storedRecipient(body.recipient, body.type);
      if (this.state.heldRecipients.has(recipient)) {
        item.result = { status: 'enqueue' };
        pending = true;
        continue;
      }
      if (!a) {
        item.result = { status: 'failure', error: { code: 'H015', message: 'Beklenmedik bir hata oluştu!' } };
        continue;
      }
      const identity = b.v2 ? this.identityOf(b.brandCode, body) : '';
      const origin = b.v2 ? this.state.v2Origin.get(identity) : undefined;
      if (origin) {
        const cur = this.state.get(b.iysCode, b.brandCode, body.recipientType ?? 'BIREYSEL', body.type, recipient);
        item.result = {
          status: 'success', originalRequestInformation: origin,
          ...(cur ? { transactionId: cur.transactionId, creationDate: cur.creationDate } : {}),
        };
        continue;
      }
      const r = this.applyProviderWrite(a, b.brandCode, body);
      if (r.ok) {
        item.result = { status: 'success', transactionId: r.movement.transactionId, creationDate: r.movement.creationDate };
        this.state.v2Origin.set(this.identityOf(b.brandCode, body), { requestId: b.requestId, subRequestId: item.subrequestId });
      } else {
        const e = r.errors[0]!;
        item.result = { status: 'failure', error: { code: e.code, message: e.message } };
      }
    }
    b.processed = !pending;
  }

  /** Identity of a written consent for v2 batch de-duplication (same data, same consentDate). */
  identityOf(brandCode: number, body: ConsentInput): string {
    const norm = { ...body, recipient: storedRecipient(body.recipient, body.type), recipientType: body.recipientType ?? 'BIREYSEL' };
    const sorted = Object.fromEntries(Object.entries(norm).sort(([x], [y]) => (x < y ? -1 : 1)));
    return createHash('sha256').update(`${brandCode}|${JSON.stringify(sorted)}`).digest('hex');
  }

  /** Counts a request in the stats. */
  count(route: string, status: number): void {
    this.stats.requests[route] = (this.stats.requests[route] ?? 0) + 1;
    this.stats.statuses[String(status)] = (this.stats.statuses[String(status)] ?? 0) + 1;
  }
}

/** Convenience: one error item for a code. */
export const err1 = (code: HCode, extra: Omit<IysErrorItem, 'code' | 'message'> = {}): IysErrorItem[] => [hError(code, extra)];
