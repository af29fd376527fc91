import { randomUUID } from 'node:crypto';
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
 * memory only, for `ttlMs`, readable with a key of the same brand.
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

/** In-memory report store: bounded (oldest evicted past `maxEntries`) and time-limited. */
export class RemovalReports {
  readonly #map = new Map<string, { at: number; report: RemovalReport }>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  /** @param opts `ttlMs` default 15 min; `maxEntries` default 10,000. */
  constructor(opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.#ttlMs = opts.ttlMs ?? 15 * 60_000;
    this.#max = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** A fresh unguessable id (UUID v4). */
  newId(): string { return randomUUID(); }

  put(report: RemovalReport): void {
    this.#map.set(report.id, { at: this.#now(), report });
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }

  /** The report, or null when unknown or older than the TTL. */
  get(id: string): RemovalReport | null {
    const e = this.#map.get(id);
    if (!e) return null;
    if (this.#now() - e.at > this.#ttlMs) { this.#map.delete(id); return null; }
    return e.report;
  }
}

const byConfig = new WeakMap<object, RemovalReports>();

/** The report store shared by every forwarding door (`/proxy/*`, `/v1/send`, SMTP, SMPP, dialers) of one config (created on first use). */
export function removalReports(config: object): RemovalReports {
  let r = byConfig.get(config);
  if (!r) { r = new RemovalReports(); byConfig.set(config, r); }
  return r;
}
