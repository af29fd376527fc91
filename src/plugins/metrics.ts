import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../config/schema.ts';
import { gatewayError } from '../errors.ts';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-metrics.ts';
import type { ConsentType, Decision, MessageType, Reason } from '../domain/types.ts';
import type { IysIntegration } from '../iys/integration.ts';
import { outboxSummary } from '../iys/outbox.ts';

/** What became of one provider request (iysgate_proxy_requests_total). */
export type ProxyOutcome = 'forwarded' | 'passthrough' | 'all_blocked' | 'promotional_refused' | 'upstream_error';

declare module 'fastify' {
  interface FastifyInstance { gatewayMetrics?: GatewayMetrics }
}

/**
 * Prometheus metrics with bounded labels only (never a recipient): decisions by type, message
 * type, decision and reason; request latency by route pattern and status class; mirror gauges.
 * One registry per app instance, so tests can build several apps in one process.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #decisions: FastCounter;
  readonly #slots = new Map<string, number>();
  readonly latency: FastHistogram;
  readonly #latencySlots = new Map<string, number>();
  readonly #proxy: FastCounter;
  readonly #proxyRecipients: FastCounter;
  readonly #upstreamLatency: FastHistogram;
  readonly #proxySlots = new Map<string, number>();
  readonly mirrorSize: Gauge;
  readonly importRows: Counter<'outcome'>;
  readonly rejections: Counter;
  readonly #smtpSessions: Counter<'event'>;
  readonly #smtpMessages: Counter<'listener' | 'outcome'>;
  readonly #smtpRecipients: Counter<'result'>;
  readonly unsubscribes: Counter<'outcome'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'iysgate_' });
    this.#decisions = new FastCounter('iysgate_decisions_total', 'Decisions made, by channel, message type, decision and reason', this.registry);
    this.latency = new FastHistogram('iysgate_http_request_duration_seconds', 'HTTP request latency by route pattern',
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], this.registry);
    this.#proxy = new FastCounter('iysgate_proxy_requests_total', 'Provider requests through /proxy and /v1/send, by upstream and outcome (forwarded, passthrough, all_blocked, promotional_refused, upstream_error)', this.registry);
    this.#proxyRecipients = new FastCounter('iysgate_proxy_recipients_total', 'Recipients of screened provider requests, by upstream and result (forwarded, removed)', this.registry);
    this.#upstreamLatency = new FastHistogram('iysgate_upstream_duration_seconds', 'Time from sending a request upstream to its answer\'s headers, by upstream and status class (error: no answer)',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], this.registry);
    this.mirrorSize = new Gauge({ name: 'iysgate_mirror_consents', help: 'Consent records held by the mirror', registers: [this.registry] });
    this.importRows = new Counter({ name: 'iysgate_import_rows_total', help: 'Imported CSV rows by outcome', labelNames: ['outcome'], registers: [this.registry] });
    this.rejections = new Counter({ name: 'iysgate_rejections_total', help: 'Refusals recorded through POST /v1/rejections', registers: [this.registry] });
    this.#smtpSessions = new Counter({ name: 'iysgate_smtp_sessions_total', help: 'SMTP relay sessions by event (opened, auth_failed)', labelNames: ['event'], registers: [this.registry] });
    this.#smtpMessages = new Counter({ name: 'iysgate_smtp_messages_total', help: 'SMTP relay messages by listener and outcome (forwarded, forwarded_partial, all_refused, promotional_refused, deferred, upstream_deferred, upstream_refused, upstream_partial, bad_input, content_refused, dsn_sent, dsn_failed)', labelNames: ['listener', 'outcome'], registers: [this.registry] });
    this.#smtpRecipients = new Counter({ name: 'iysgate_smtp_recipients_total', help: 'SMTP relay envelope recipients by result (forwarded, refused, deferred, too_many, upstream_failed)', labelNames: ['result'], registers: [this.registry] });
    this.unsubscribes = new Counter({ name: 'iysgate_unsubscribes_total', help: 'One-click unsubscribe requests (POST /u/TOKEN) by outcome (recorded, already, invalid)', labelNames: ['outcome'], registers: [this.registry] });
  }

  /** Counts one SMTP session event (`opened`, `auth_failed`). */
  smtpSession(event: 'opened' | 'auth_failed'): void { this.#smtpSessions.inc({ event }); }
  /** Counts one SMTP message by listener (a configured name: bounded) and outcome (an enum). */
  smtpMessage(listener: string, outcome: string): void { this.#smtpMessages.inc({ listener, outcome }); }
  /** Counts `n` SMTP envelope recipients by result. */
  smtpRecipients(result: 'forwarded' | 'refused' | 'deferred' | 'too_many' | 'upstream_failed', n: number): void { if (n > 0) this.#smtpRecipients.inc({ result }, n); }

  /** Counts `n` decisions (labels are enums: bounded cardinality). */
  decision(type: ConsentType, messageType: MessageType, decision: Decision, reason: Reason, n = 1): void {
    const k = type + messageType + decision + reason;
    let slot = this.#slots.get(k);
    if (slot === undefined) { slot = this.#decisions.slot({ type, messageType, decision, reason }); this.#slots.set(k, slot); }
    this.#decisions.inc(slot, n);
  }

  /** Counts one provider request by upstream (a configured name: bounded) and outcome. */
  proxyRequest(upstream: string, outcome: ProxyOutcome): void {
    this.#proxy.inc(this.#proxySlot(this.#proxy, `r${upstream}\u0000${outcome}`, () => ({ upstream, outcome })));
  }

  /** Counts the recipients of one screened provider request. */
  proxyRecipients(upstream: string, forwarded: number, removed: number): void {
    if (forwarded > 0) this.#proxyRecipients.inc(this.#proxySlot(this.#proxyRecipients, `f${upstream}`, () => ({ upstream, result: 'forwarded' })), forwarded);
    if (removed > 0) this.#proxyRecipients.inc(this.#proxySlot(this.#proxyRecipients, `x${upstream}`, () => ({ upstream, result: 'removed' })), removed);
  }

  /** Records an upstream call's duration in seconds; `status` an HTTP status class or `error`. */
  upstreamLatency(upstream: string, status: string, seconds: number): void {
    this.#upstreamLatency.observe(this.#proxySlot(this.#upstreamLatency, `l${upstream}\u0000${status}`, () => ({ upstream, status })), seconds);
  }

  /** The series slot for `key` (a string per label set: no label object built per request). */
  #proxySlot(m: FastCounter | FastHistogram, key: string, labels: () => Record<string, string>): number {
    let slot = this.#proxySlots.get(key);
    if (slot === undefined) { slot = m.slot(labels()); this.#proxySlots.set(key, slot); }
    return slot;
  }

  /** Records one request's latency in seconds under its route pattern (bounded: routes × methods × status class). */
  requestLatency(route: string, method: string, status: string, seconds: number): void {
    const k = route + ' ' + method + ' ' + status;
    let slot = this.#latencySlots.get(k);
    if (slot === undefined) { slot = this.latency.slot({ route, method, status }); this.#latencySlots.set(k, slot); }
    this.latency.observe(slot, seconds);
  }
}

/** What registerCacheMetrics reads of an in-process consent cache (mirror/cached-store.ts). */
export interface CacheStatsSource {
  readonly stats: { hits: number; misses: number; invalidations: number; resets: number };
  readonly size: number;
  readonly calculatedBytes: number;
  readonly isEnabled: boolean;
}

/**
 * Metrics of the Redis store's in-process cache, read at scrape time: counters of hits, misses,
 * invalidations (local and remote writes) and resets (invalidation feed lost or re-established)
 * since start; gauges of entries, estimated bytes, and 1/0 for serving (0 while the feed is down).
 * No labels: nothing here can carry a recipient.
 */
export function registerCacheMetrics(m: GatewayMetrics, cache: CacheStatsSource): void {
  const r = [m.registry];
  const counter = (name: string, help: string, read: () => number) => {
    let seen = 0;
    // the cache keeps running totals; the counter advances by what happened since the last scrape
    new Counter({ name, help, registers: r, collect() { const now = read(); if (now > seen) { this.inc(now - seen); seen = now; } } });
  };
  counter('iysgate_cache_hits_total', 'In-process cache hits', () => cache.stats.hits);
  counter('iysgate_cache_misses_total', 'In-process cache misses (the lookup went to Redis)', () => cache.stats.misses);
  counter('iysgate_cache_invalidations_total', 'Cache keys invalidated by local and remote writes', () => cache.stats.invalidations);
  counter('iysgate_cache_resets_total', 'Times the cache stopped serving and was emptied (invalidation feed lost: connection dropped or heartbeat missed)', () => cache.stats.resets);
  new Gauge({ name: 'iysgate_cache_entries', help: 'Records held by the in-process cache', registers: r, collect() { this.set(cache.size); } });
  new Gauge({ name: 'iysgate_cache_bytes', help: 'Estimated bytes held by the in-process cache', registers: r, collect() { this.set(cache.calculatedBytes); } });
  new Gauge({ name: 'iysgate_cache_serving', help: '1 when the cache may answer (invalidation feed up), else 0', registers: r, collect() { this.set(cache.isEnabled ? 1 : 0); } });
}

/**
 * Outbox and sync gauges, computed at scrape time: items by state, overdue items, seconds to the
 * nearest deadline, and per configured brand (a bounded set) the age of the last complete pull.
 */
export function registerIysMetrics(m: GatewayMetrics, iys: IysIntegration, now: () => number, isStale: () => boolean): void {
  const r = [m.registry];
  new Gauge({
    name: 'iysgate_outbox_items', help: 'Outbox items by state', labelNames: ['state'], registers: r,
    async collect() {
      const s = outboxSummary(await iys.outbox.list().catch(() => []), now());
      for (const st of ['pending', 'submitted', 'done', 'failed'] as const) this.set({ state: st }, s[st]);
    },
  });
  new Gauge({ name: 'iysgate_outbox_overdue_items', help: 'Open outbox items past their İYS deadline', registers: r, async collect() { this.set(outboxSummary(await iys.outbox.list().catch(() => []), now()).overdue); } });
  new Gauge({
    // labelled by origin so that "nothing open" is an absent series, not a 0 that reads "due now"
    name: 'iysgate_outbox_nearest_deadline_seconds', help: 'Seconds to the nearest open item\'s deadline (end of day, Istanbul), by origin (rejection, consent, upload); absent when none is open', labelNames: ['origin'], registers: r,
    async collect() {
      const items = await iys.outbox.list().catch(() => []);
      this.reset();
      for (const origin of ['rejection', 'consent', 'upload'] as const) {
        const s = outboxSummary(items.filter((i) => i.origin === origin), now());
        if (s.secondsToNearestDeadline !== null) this.set({ origin }, s.secondsToNearestDeadline);
      }
    },
  });
  new Gauge({
    name: 'iysgate_sync_last_pull_age_seconds', help: 'Seconds since the last complete pull, per brand', labelNames: ['brandCode'], registers: r,
    collect() { for (const [b, w] of iys.sync) { const last = w.status().lastPullAt; if (last !== null) this.set({ brandCode: String(b) }, (now() - last) / 1000); } },
  });
  // a fleet on Redis (issue 17): which instance leads İYS work, its lease renewals, reclaimed items
  new Gauge({ name: 'iysgate_sync_leader', help: '1 when this instance holds the İYS-work lease (or is the only instance: no Redis), else 0; a fleet sums to 1', registers: r, collect() { this.set(iys.lease ? (iys.lease.isLeader() ? 1 : 0) : (iys.client ? 1 : 0)); } });
  if (iys.lease) {
    const lease = iys.lease;
    const follow = (name: string, help: string, read: () => number) => {
      let seen = 0;
      new Counter({ name, help, registers: r, collect() { const n = read(); if (n > seen) { this.inc(n - seen); seen = n; } } });
    };
    follow('iysgate_sync_lease_renewals_total', 'Renewals of the İYS-work lease answered by Redis (the leader renews every 0.15 × leaseMs)', () => lease.stats.renewals);
    follow('iysgate_sync_lease_acquisitions_total', 'Times this instance took the İYS-work lease', () => lease.stats.acquisitions);
    follow('iysgate_sync_lease_losses_total', 'Times this instance stopped leading (lease taken over, expired, or released)', () => lease.stats.losses);
    follow('iysgate_sync_lease_failures_total', 'Lease attempts Redis did not answer', () => lease.stats.failures);
  }
  if (iys.client) {
    const clients = [...new Set([iys.client, iys.workClient ?? iys.client])];
    let seen = 0;
    // a fleet's followers send nothing: the fleet's total is the leader's (issue 17)
    new Counter({ name: 'iysgate_iys_requests_total', help: 'Requests this instance sent to İYS (API calls with their retries, and token grants)', registers: r, collect() { const b = clients[0]!.broker.stats; const n = clients.reduce((a, c) => a + c.attempts, 0) + b.passwordGrants + b.refreshGrants; if (n > seen) { this.inc(n - seen); seen = n; } } });
  }
  {
    let seen = 0;
    new Counter({ name: 'iysgate_outbox_reclaimed_total', help: 'Outbox items this instance reclaimed: claimed for a request to İYS by an instance that never recorded the outcome (died or lost the lease)', registers: r, collect() { const n = iys.reclaimedHere; if (n > seen) { this.inc(n - seen); seen = n; } } });
  }
  new Gauge({ name: 'iysgate_mirror_stale', help: '1 when the mirror is past its freshness bound', registers: r, collect() { this.set(isStale() ? 1 : 0); } });
  // dead letters: the store keeps running totals by reason (a bounded enum); the counter follows them
  const seen = new Map<string, number>();
  new Counter({
    name: 'iysgate_sync_dead_letters_total', help: 'İYS movements (pull or push) that could not be applied and were kept in the dead-letter store, by reason (future_date, invalid_field, unkeyable, unknown_brand)', labelNames: ['reason'], registers: r,
    collect() {
      for (const [reason, n] of Object.entries(iys.deadLetters.recorded)) {
        const before = seen.get(reason) ?? 0;
        this.inc({ reason }, n > before ? n - before : 0);
        seen.set(reason, Math.max(n, before));
      }
    },
  });
  new Gauge({
    name: 'iysgate_sync_dead_letters_open', help: 'Dead-lettered İYS movements not applied yet (retried every pull cycle), by reason', labelNames: ['reason'], registers: r,
    collect() { for (const [reason, n] of Object.entries(iys.deadLetters.summary().openByReason)) this.set({ reason }, n); },
  });
  new Gauge({
    name: 'iysgate_iys_clock_skew_seconds', help: 'İYS clock minus the gateway clock, from the Date header of İYS\'s last answer (positive: İYS ahead); absent until measured', registers: r,
    collect() { this.reset(); const s = iys.client?.clockSkewMs; if (s !== null && s !== undefined) this.set(s / 1000); },
  });
}

/**
 * Registers `GET /metrics` and the latency hook. `auth` (config `metricsAuth`): `none` = open;
 * `key` = a Bearer API key with scope `metrics` (checked by plugins/auth.ts like every scoped
 * route); `{username, password}` = HTTP Basic, compared in constant time. Refused: 401
 * GW_ERR_UNAUTHORIZED (with `WWW-Authenticate` for Basic) or 403 GW_ERR_FORBIDDEN (scope).
 */
export default fp(async function metrics(app: FastifyInstance, opts: { metrics: GatewayMetrics; auth?: GatewayConfig['metricsAuth'] }) {
  const m = opts.metrics;
  const auth = opts.auth ?? 'none';
  // routes outside this plugin's scope (proxy relay) reach the metrics through the instance
  app.decorate('gatewayMetrics', m);
  const STATUS = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
  app.addHook('onResponse', (req, reply, done) => {
    m.requestLatency(req.routeOptions.url ?? 'unmatched', req.method, STATUS[Math.min(4, Math.max(0, Math.floor(reply.statusCode / 100) - 1))]!, reply.elapsedTime / 1000);
    done();
  });
  const sha = (x: string) => createHash('sha256').update(x).digest();
  const basic = typeof auth === 'object' ? sha(`${auth.username}:${auth.password}`) : null;
  app.get('/metrics', {
    ...(auth === 'key' ? { config: { scope: 'metrics' as const } } : {}),
    ...(basic ? {
      onRequest: async (req: FastifyRequest, reply: { header(k: string, v: string): unknown }) => {
        const h = req.headers.authorization ?? '';
        const got = h.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString('utf8') : '';
        if (!timingSafeEqual(sha(got), basic)) {
          reply.header('www-authenticate', 'Basic realm="iys-gate metrics"');
          throw gatewayError('GW_ERR_UNAUTHORIZED');
        }
      },
    } : {}),
    schema: {
      summary: `Prometheus metrics (text exposition format)${auth === 'none' ? '' : auth === 'key' ? '; Bearer key with scope metrics' : '; HTTP Basic'}`,
      tags: ['operations'], produces: ['text/plain'],
      ...(auth === 'none' ? { security: [] } : auth === 'key' ? {} : { security: [{ basic: [] }] }),
      response: { 200: { type: 'string', description: 'text/plain; version=0.0.4' } },
    },
  }, async (_req, reply) => {
    reply.type(m.registry.contentType);
    return m.registry.metrics();
  });
}, { name: 'iysgate-metrics' });
