/**
 * Token broker for one set of İYS credentials (iys-reference.md §1, field case C12):
 * - caches the access token and refreshes it `refreshBeforeMs` (default 5 min) before expiry;
 * - single-flight: concurrent callers share one token request;
 * - refresh_token grant first (always with the newest refresh token), password grant when the
 *   refresh token is missing, expired or refused;
 * - after H084 (token rate limit) it sends nothing for a full `penaltyMs` (default 1 h), because
 *   every call during İYS's penalty restarts the hour; callers get GW_ERR_IYS_TOKEN_HALTED;
 * - never a token per call; token requests also count against the shared {@link RateBudget}.
 */
import { request, type Dispatcher } from 'undici';
import { iysClientError, type IysClientError } from './client-errors.ts';
import type { IysErrorItem } from './h-codes.ts';
import type { RateBudget } from './rate-budget.ts';
import type { TokenResponse } from './types.ts';

export interface TokenBrokerOptions {
  /** İYS base URL, e.g. `https://api.iys.org.tr` or the simulator's `http://127.0.0.1:8090`. */
  baseUrl: string;
  username: string;
  password: string;
  /** Refresh this many ms before the access token expires; default 300 000 (5 min). */
  refreshBeforeMs?: number;
  /** Back-off after H084 in ms; default 3 600 000 (1 h). */
  penaltyMs?: number;
  /** Per-request timeout in ms; default 10 000. */
  timeoutMs?: number;
  /** Clock in epoch ms; default Date.now. */
  now?: () => number;
  budget?: RateBudget;
  dispatcher?: Dispatcher;
  /**
   * A fleet's shared token (fleet-iys.ts, Redis): the instances hold one token per credentials,
   * one of them requests it at a time (a lock), and an H084 back-off stops them all.
   */
  shared?: SharedToken;
}

/** The token a fleet shares (Redis). Every method may throw when Redis does not answer. */
export interface SharedToken {
  read(): Promise<Held | null>;
  /** Stores `held` until its refresh token expires. */
  write(held: Held): Promise<void>;
  /** Takes the one-requester lock for `ms`; false when another instance holds it. */
  lock(ms: number): Promise<boolean>;
  unlock(): Promise<void>;
  /** Drops the stored token if it is `access` (İYS refused it: 401 H351). */
  drop(access: string): Promise<void>;
  /** Epoch ms until which the fleet sends no token request (H084), 0 when none. */
  haltedUntil(): Promise<number>;
  halt(untilMs: number): Promise<void>;
}

export interface Held {
  access: string;
  accessExp: number;
  refresh: string;
  refreshExp: number;
}

export class TokenBroker {
  private held: Held | null = null;
  private inflight: Promise<string> | null = null;
  private halt = 0;
  private readonly now: () => number;
  /** Counters: grants sent and their outcome (observability, tests). */
  readonly stats = { passwordGrants: 0, refreshGrants: 0, failures: 0 };

  constructor(private readonly opts: TokenBrokerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Epoch ms until which no token request is sent (after H084), or null. */
  get haltedUntil(): number | null {
    return this.halt > this.now() ? this.halt : null;
  }

  /**
   * A valid access token, from cache when it is not within `refreshBeforeMs` of expiry.
   * @throws GW_ERR_IYS_TOKEN_HALTED during the H084 back-off; GW_ERR_IYS_AUTH when İYS refuses
   *   the credentials; GW_ERR_IYS_UNAVAILABLE / GW_ERR_IYS_TIMEOUT on server or network trouble
   *   (retryable by the caller); GW_ERR_IYS_BUDGET_EXHAUSTED when the hourly token budget is spent
   */
  async getAccessToken(): Promise<string> {
    const now = this.now();
    const h = this.held;
    if (h && now < h.accessExp - (this.opts.refreshBeforeMs ?? 300_000)) return h.access;
    if (!this.inflight) {
      this.inflight = this.obtain().finally(() => {
        this.inflight = null;
      });
    }
    try {
      return await this.inflight;
    } catch (e) {
      // A refresh that failed for a transient reason still leaves a usable token.
      if (h && h === this.held && this.now() < h.accessExp && (e as IysClientError).code !== 'GW_ERR_IYS_TOKEN_HALTED') return h.access;
      throw e;
    }
  }

  /**
   * Forgets `token` after İYS answered 401 H351 with it; the next {@link getAccessToken} gets a
   * new one (refresh grant first). A token other than the cached one is ignored (another caller
   * already replaced it).
   */
  invalidate(token: string): void {
    if (this.held?.access === token) this.held = { ...this.held, accessExp: 0 };
    void this.opts.shared?.drop(token).catch(() => {});
  }

  private async obtain(): Promise<string> {
    const shared = this.opts.shared;
    if (!shared) return this.obtainHere();
    const fresh = (h: Held | null) => h !== null && this.now() < h.accessExp - (this.opts.refreshBeforeMs ?? 300_000);
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const fleetErr = (e: unknown) => iysClientError('GW_ERR_IYS_UNAVAILABLE', ['the fleet\'s shared İYS token: Redis did not answer'], { cause: e });
    const end = this.now() + timeoutMs;
    for (;;) {
      let got: Held | null;
      try { got = await shared.read(); } catch (e) { throw fleetErr(e); }
      if (got && fresh(got)) { this.held = got; return got.access; }
      if (got && (!this.held || got.refreshExp > this.held.refreshExp)) this.held = got; // the newest refresh token
      let until: number;
      try { until = await shared.haltedUntil(); } catch (e) { throw fleetErr(e); }
      if (until > this.now()) {
        this.halt = Math.max(this.halt, until);
        throw iysClientError('GW_ERR_IYS_TOKEN_HALTED', [new Date(until).toISOString()], { status: 429, errors: [{ code: 'H084', message: 'token requests halted (fleet)' }] });
      }
      let mine: boolean;
      try { mine = await shared.lock(timeoutMs + 2000); } catch (e) { throw fleetErr(e); }
      if (mine) {
        try {
          const again = await shared.read();
          if (again && fresh(again)) { this.held = again; return again.access; }
          const access = await this.obtainHere();
          await shared.write(this.held!).catch(() => {}); // the others request their own if this write was lost
          return access;
        } catch (e) {
          if ((e as IysClientError).code === 'GW_ERR_IYS_TOKEN_HALTED' && this.halt > this.now()) await shared.halt(this.halt).catch(() => {});
          throw e;
        } finally {
          await shared.unlock().catch(() => {});
        }
      }
      // another instance is requesting the token: wait for it
      if (this.now() > end) throw iysClientError('GW_ERR_IYS_UNAVAILABLE', ['the fleet\'s token request did not finish in time'], {});
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async obtainHere(): Promise<string> {
    if (this.haltedUntil !== null) {
      throw iysClientError('GW_ERR_IYS_TOKEN_HALTED', [new Date(this.halt).toISOString()], { status: 429, errors: [{ code: 'H084', message: 'token requests halted' }] });
    }
    const h = this.held;
    if (h && this.now() < h.refreshExp - 10_000) {
      try {
        return await this.grant({ grant_type: 'refresh_token', refresh_token: h.refresh });
      } catch (e) {
        if ((e as IysClientError).code !== 'GW_ERR_IYS_AUTH') throw e;
        // refresh token refused: fall through to the password grant
      }
    }
    return this.grant({ grant_type: 'password', username: this.opts.username, password: this.opts.password });
  }

  private async grant(body: Record<string, string>): Promise<string> {
    await this.opts.budget?.acquire('token');
    if (body.grant_type === 'password') this.stats.passwordGrants++;
    else this.stats.refreshGrants++;
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    let status: number;
    let payload: unknown;
    try {
      const res = await request(new URL('/oauth2/token', this.opts.baseUrl), {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
        ...(this.opts.dispatcher ? { dispatcher: this.opts.dispatcher } : {}),
      });
      status = res.statusCode;
      const text = await res.body.text();
      try { payload = text ? JSON.parse(text) : null; } catch { payload = text; }
    } catch (e) {
      this.stats.failures++;
      const name = (e as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw iysClientError('GW_ERR_IYS_TIMEOUT', [timeoutMs], { cause: e });
      throw iysClientError('GW_ERR_IYS_UNAVAILABLE', [(e as Error).message], { cause: e });
    }
    if (status === 200) {
      const t = payload as TokenResponse;
      const now = this.now();
      this.held = {
        access: t.access_token, accessExp: now + t.expires_in * 1000,
        refresh: t.refresh_token, refreshExp: now + t.refresh_expires_in * 1000,
      };
      return t.access_token;
    }
    this.stats.failures++;
    const errors = ((payload as { errors?: IysErrorItem[] } | null)?.errors) ?? [];
    if (status === 429 && errors.some((e) => e.code === 'H084')) {
      this.halt = this.now() + (this.opts.penaltyMs ?? 3_600_000);
      throw iysClientError('GW_ERR_IYS_TOKEN_HALTED', [new Date(this.halt).toISOString()], { status, errors });
    }
    if (status === 400 || status === 401) {
      const p = payload as { error?: string; error_description?: string } | null;
      throw iysClientError('GW_ERR_IYS_AUTH', [`${p?.error ?? status}: ${p?.error_description ?? ''}`], { status, errors });
    }
    if (status === 429) throw iysClientError('GW_ERR_IYS_RATE_LIMITED', [errors[0]?.code ?? '429'], { status, errors });
    throw iysClientError('GW_ERR_IYS_UNAVAILABLE', [`HTTP ${status}`], { status, errors });
  }
}

const registry = new Map<string, TokenBroker>();

/**
 * The one broker per (baseUrl, username) in this process, created on first use, so every client
 * built with the same credentials shares its token (C12).
 */
export function sharedTokenBroker(opts: TokenBrokerOptions): TokenBroker {
  const key = `${opts.baseUrl}|${opts.username}`;
  let b = registry.get(key);
  if (!b) {
    b = new TokenBroker(opts);
    registry.set(key, b);
  }
  return b;
}
