import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ContentCheckPolicy } from '../../check/check-service.ts';
import type { GatewayConfig } from '../../config/schema.ts';
import type { SenderIdentity } from '../../domain/content-check.ts';
import { istanbulDate } from '../../domain/turkish-time.ts';
import type { OutboxStore } from '../../iys/outbox-store.ts';
import type { ConsentStore } from '../../mirror/consent-store.ts';
import { InboundReplies } from './handle-reply.ts';
import { InboundState } from './inbound-state.ts';
import { confirmationSender } from './confirmation.ts';
import { InboxPoller } from './pollers.ts';

/**
 * The commercial content check every door's screening applies (check-service.ts
 * ContentCheckPolicy): config `policy.contentCheck`, identities from `brands[].identity`, and the
 * metric `iysgate_content_missing_total{entrance, missing}`.
 */
export function contentCheckPolicy(config: GatewayConfig, registry: Registry): ContentCheckPolicy {
  const identities = new Map<number, SenderIdentity>();
  for (const b of config.brands ?? []) if (typeof b === 'object' && b.identity) identities.set(b.brandCode, b.identity);
  const missingTotal = new Counter({ name: 'iysgate_content_missing_total', help: 'TICARI messages whose text lacks a refusal instruction (ret-instruction) or the sender identity (identity), by entrance', labelNames: ['entrance', 'missing'], registers: [registry] });
  return {
    mode: config.policy.contentCheck, identities,
    onMissing: (entrance, missing) => { for (const m of missing) missingTotal.inc({ entrance, missing: m }); },
  };
}

/** Minimal logger the door needs (pino's shape). */
export interface InboundLog { warn(obj: unknown, msg?: string): void; error(obj: unknown, msg?: string): void }

/** The inbound door, built once by app.ts: handler, durable state, pollers. */
export interface InboundDoor {
  replies: InboundReplies;
  state: InboundState;
  pollers: InboxPoller[];
  /** Stops the pollers and closes the state log. */
  close(): Promise<void>;
}

/**
 * Opens the inbound door: the durable state (`<dataDir>/inbound/inbound.log`), the handler, the
 * inbox pollers of every `inbound.upstreams.<name>.pollIntervalMs > 0`, the confirmation sender,
 * and its metrics (`iysgate_inbound_replies_total{via,status}`, `iysgate_optout_review_items{state}`).
 * @throws GW_ERR_LOG_CORRUPT when the state log is damaged before its end
 */
export async function openInbound(config: GatewayConfig, deps: {
  store: ConsentStore; outbox: Pick<OutboxStore, 'addAndApply'>; now: () => number; log: InboundLog; registry: Registry;
}): Promise<InboundDoor> {
  const ic = config.inbound;
  const state = new InboundState({ dir: join(config.dataDir, 'inbound'), maxIds: ic.dedupeMaxIds, keepResolvedMs: ic.keepResolvedMs, now: deps.now, warn: (m) => deps.log.warn(m) });
  await state.open();
  const shortNames = new Map<string, number>();
  for (const b of config.brands ?? []) if (typeof b === 'object') for (const n of b.shortNames) shortNames.set(n, b.brandCode);
  const counter = new Counter({ name: 'iysgate_inbound_replies_total', help: 'Inbound replies by door instance (upstream, api, SMPP bind) and status (refused, review, ignored, duplicate)', labelNames: ['via', 'status'], registers: [deps.registry] });
  const vias = new Set(['api', ...config.upstreams.map((u) => u.name)]);
  new Gauge({
    name: 'iysgate_optout_review_items', help: 'Replies kept for review: open, and open past their one-business-day due date (overdue)', labelNames: ['state'], registers: [deps.registry],
    collect() { const c = state.counts(istanbulDate(new Date(deps.now()))); this.set({ state: 'open' }, c.open); this.set({ state: 'overdue' }, c.overdue); },
  });
  const confirmErrors = new Counter({ name: 'iysgate_inbound_confirmations_failed_total', help: 'Confirmation SMS that could not be sent (informational; never retried)', registers: [deps.registry] });
  const confirm = ic.confirmation ? confirmationSender(config, ic.confirmation, shortNames) : undefined;
  const replies = new InboundReplies({
    config: ic, shortNames, state,
    refusals: { store: deps.store, outbox: deps.outbox, halfDayPolicy: config.policy.halfDayPolicy, now: deps.now },
    counters: { reply: (via, status) => counter.inc({ via: vias.has(via) ? via : 'other', status }) },
    confirm,
    onConfirmError: (err) => { confirmErrors.inc(); deps.log.warn({ err: (err as Error)?.message }, 'confirmation SMS not sent'); },
  });
  const pollers: InboxPoller[] = [];
  for (const [name, uc] of Object.entries(ic.upstreams)) {
    const u = config.upstreams.find((x) => x.name === name);
    if (!u || uc.pollIntervalMs === 0 || !uc.credentials) continue;
    const p = new InboxPoller({ upstream: u, settings: uc, replies, state, log: deps.log, now: deps.now });
    p.start();
    pollers.push(p);
  }
  return {
    replies, state, pollers,
    async close() { for (const p of pollers) await p.stop(); await state.close(); },
  };
}
