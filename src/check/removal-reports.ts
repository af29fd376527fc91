import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../mirror/redis-connection.ts';
import { withTimeout } from '../mirror/redis-connection.ts';
import type { MessageType, Reason } from '../domain/types.ts';

/** One recipient removed from a request (or allowed but not carried: `PERSONALIZATION_WITHOUT_TO`, or `CALL_PARTY_REFUSED` when another party of the same call was refused). */
export interface RemovedRecipient {
  /** Position among the request's recipients (ProviderMessage.recipients order). */
  index: number;
  /** As the sender wrote it. */
  input: string;
  /** Canonical form, or null when it could not be normalized. */
  recipient: string | null;
  reason: Reason | 'PERSONALIZATION_WITHOUT_TO' | 'CALL_PARTY_REFUSED';
}

/**
 * The removal report of one proxied request, served at `GET /proxy/_reports/<id>` (JSON) and
 * announced by the `X-IYS-Gate-Report` response header. Holds personal data (recipients): kept in
 * memory for `ttlMs` (and, on Redis, in Redis for the same time: any instance of a fleet finds it),
 * readable with a key of the same brand.
 */
export interface RemovalReport {
  id: string;
  upstream: string;
  brandCode: number;
  /** Gateway request id (also in logs and in error answers). */
  requestId: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  declaredMessageType: MessageType;
  /** Message type the check used (TICARI when promotional BILGILENDIRME was treated as commercial). */
  checkedMessageType: MessageType;
  promotional: { action: 'none' | 'block' | 'treat-as-commercial' | 'warn'; hits: string[] } | null;
  counts: { received: number; forwarded: number; removed: number };
  removed: RemovedRecipient[];
  /** `forwarded` (upstream answered `upstreamStatus`), `not-forwarded` (all blocked / policy), `failed`. */
  outcome: 'forwarded' | 'not-forwarded' | 'failed';
  upstreamStatus: number | null;
  /** True when the upstream was called without gateway auth (gatewayAuth `none`): readable by id alone. */
  open: boolean;
}

/** Where a fleet's reports are shared (Redis): written without waiting, read on a local miss. */
export interface SharedReports {
  /** Stores `report` for `ttlMs` (replacing an earlier version). Never throws; failures are counted. */
  write(report: RemovalReport, ttlMs: number): void;
  /** The stored report, or null when unknown, expired or Redis did not answer in time. */
  read(id: string): Promise<RemovalReport | null>;
}

/**
 * A fleet's reports in Redis: one key per report `<prefix>rr:{<id>}` with a TTL, each hash-tagged
 * by its own id (single-key commands only: the reports spread over a Cluster's masters instead of
 * loading the `{fleet}` slot). Writes are sent without waiting (the answer to the sender is not
 * held for them; one connection keeps their order, so a later version wins), reads are bounded.
 */
export class RedisReports implements SharedReports {
  readonly #c: RedisClient;
  readonly #prefix: string;
  readonly #ms: number;
  /** Writes Redis did not take, reads that failed (observability). */
  readonly stats = { writes: 0, writeFailures: 0, reads: 0, readFailures: 0 };

  /** @param opts.timeoutMs bound of one read in ms (default 1,000) */
  constructor(opts: { client: RedisClient; keyPrefix: string; timeoutMs?: number }) {
    this.#c = opts.client;
    this.#prefix = `${opts.keyPrefix}rr:`;
    this.#ms = opts.timeoutMs ?? 1000;
  }

  write(report: RemovalReport, ttlMs: number): void {
    this.stats.writes++;
    this.#c.set(`${this.#prefix}{${report.id}}`, JSON.stringify(report), 'PX', Math.max(1, Math.round(ttlMs))).catch(() => { this.stats.writeFailures++; });
  }

  async read(id: string): Promise<RemovalReport | null> {
    this.stats.reads++;
    try {
      const v = await withTimeout(this.#c.get(`${this.#prefix}{${id}}`), this.#ms, 'removal report');
      return v ? JSON.parse(v) as RemovalReport : null;
    } catch {
      this.stats.readFailures++;
      return null;
    }
  }
}

const owners = new WeakMap<RemovalReport, RemovalReports>();

/** Report store: bounded in memory (oldest evicted past `maxEntries`), time-limited, and shared through Redis in a fleet. */
export class RemovalReports {
  readonly #map = new Map<string, { at: number; report: RemovalReport }>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #shared: SharedReports | null;

  /** @param opts `ttlMs` default 15 min; `maxEntries` default 10,000 (in memory); `shared` the fleet's store (Redis). */
  constructor(opts: { ttlMs?: number; maxEntries?: number; now?: () => number; shared?: SharedReports } = {}) {
    this.#ttlMs = opts.ttlMs ?? 15 * 60_000;
    this.#max = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
    this.#shared = opts.shared ?? null;
  }

  /** Whether reports are shared by a fleet (Redis). */
  get shared(): boolean { return this.#shared !== null; }

  /** A fresh unguessable id (UUID v4). */
  newId(): string { return randomUUID(); }

  put(report: RemovalReport): void {
    this.#map.set(report.id, { at: this.#now(), report });
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
    owners.set(report, this);
    this.#shared?.write(report, this.#ttlMs);
  }

  /** The report as this process holds it, or null when unknown here or older than the TTL. */
  get(id: string): RemovalReport | null {
    const e = this.#map.get(id);
    if (!e) return null;
    if (this.#now() - e.at > this.#ttlMs) { this.#map.delete(id); return null; }
    return e.report;
  }

  /** The report from this process or, in a fleet, from the instance that made it (Redis). Never throws. */
  async find(id: string): Promise<RemovalReport | null> {
    return this.get(id) ?? (this.#shared ? await this.#shared.read(id) : null);
  }

  /** Stores again a report changed after `put` (its outcome, the upstream's status), for the rest of its TTL. */
  changed(report: RemovalReport): void {
    const e = this.#map.get(report.id);
    if (!e || !this.#shared) return;
    const left = this.#ttlMs - (this.#now() - e.at);
    if (left > 0) this.#shared.write(report, left);
  }
}

/** Tells the store that holds `report` (if any) that it changed after `put` (relay outcome, upstream status). */
export function reportChanged(report: RemovalReport | null): void {
  if (report) owners.get(report)?.changed(report);
}

const byConfig = new WeakMap<object, RemovalReports>();

/**
 * Makes the report store of `config` the fleet's (Redis): called by app.ts before any door is
 * registered, so every door of a gateway on Redis shares its reports with the other instances.
 */
export function shareRemovalReports(config: object, shared: SharedReports): RemovalReports {
  const r = new RemovalReports({ shared });
  byConfig.set(config, r);
  return r;
}

/** The report store shared by every forwarding door (`/proxy/*`, `/v1/send`, SMTP, SMPP, dialers) of one config (created on first use). */
export function removalReports(config: object): RemovalReports {
  let r = byConfig.get(config);
  if (!r) { r = new RemovalReports(); byConfig.set(config, r); }
  return r;
}
