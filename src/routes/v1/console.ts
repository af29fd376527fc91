import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DecisionRing } from '../../check/decision-ring.ts';
import { COVERED_YEARS, holidaysOf } from '../../domain/calendar.ts';
import { normalizeRecipient } from '../../domain/recipient.ts';
import { istanbulDate } from '../../domain/turkish-time.ts';
import { CONSENT_TYPES, type ConsentType, type MessageType, type RecipientType } from '../../domain/types.ts';
import { gatewayError, storeUnavailable } from '../../errors.ts';
import { holdsBrand, requireBrand } from '../../plugins/auth.ts';
import type { CacheStatsSource } from '../../plugins/metrics.ts';
import type { RouteDeps } from '../deps.ts';
import { brandCode, errorResponse, recipient, recipientType, type as consentType } from '../schemas.ts';

/** Above this many records the Overview does not count the mirror by type on demand (it would take seconds). */
export const COUNT_BY_TYPE_MAX_RECORDS = 1_000_000;

const obj = { type: 'object', additionalProperties: true } as const;

/**
 * Read endpoints of the operator console (`/console/`, issue 18), scope `console` (any key with
 * scope `console` reads them; nothing here writes). Each answer holds only the key's brands:
 * - `GET /v1/console/session`: who the key is (name, brands, scopes) and which optional pages exist;
 * - `GET /v1/console/overview`: store kind and reachability, mirror size and counts by type and
 *   status, freshness (`asOf`, age, bound), cache serving state (Redis store), readiness;
 * - `GET /v1/console/decisions?seconds=N`: the per-second decision counters (check/decision-ring.ts);
 * - `GET /v1/console/calendar`: the official holidays the outbox counts deadlines with (domain/calendar.ts);
 * - `GET /v1/console/lookup?recipient=…`: one recipient's normalized form, every record of the brand
 *   for its types × recipientTypes with movements, and what `/v1/check` would answer now for TICARI
 *   and BILGILENDIRME (CheckService.preview: not counted as a decision).
 */
export default async function consoleRoutes(app: FastifyInstance, deps: RouteDeps & { ring: DecisionRing }) {
  const config = { scope: 'console' as const };
  const tags = ['console'];

  app.get('/v1/console/session', {
    config,
    schema: { summary: 'The signed-in key (name, brands, scopes) and the optional console pages this gateway has', tags, response: { 200: obj, '4xx': errorResponse } },
  }, async (req) => {
    const p = req.principal!;
    return {
      name: p.name,
      brands: p.brands === '*' ? (deps.servedBrands.length ? deps.servedBrands : '*') : p.brands,
      scopes: p.scopes,
      servedBrands: deps.servedBrands,
      features: {
        decisionLog: app.hasRoute({ method: 'GET', url: '/v1/decisions' }),
        optoutReview: app.hasRoute({ method: 'GET', url: '/v1/optouts/review' }),
      },
    };
  });

  let counted: { key: string; at: number; byType: Record<string, Record<string, number>> } | null = null;
  const countByType = async (req: FastifyRequest, size: number) => {
    if (size > COUNT_BY_TYPE_MAX_RECORDS) return null;
    const p = req.principal!;
    const key = `${p.brands === '*' ? '*' : p.brands.join(',')}:${size}`;
    if (counted && counted.key === key && deps.now() - counted.at < 10_000) return counted.byType;
    const byType: Record<string, Record<string, number>> = {};
    for (const t of CONSENT_TYPES) byType[t] = { ONAY: 0, RET: 0 };
    const sources = p.brands === '*' ? [undefined] : p.brands;
    for (const b of sources) {
      for await (const r of deps.store.iterate(b)) {
        if (b === undefined && !holdsBrand(req, r.brandCode)) continue;
        const row = byType[r.type] ??= { ONAY: 0, RET: 0 };
        row[r.status] = (row[r.status] ?? 0) + 1;
      }
    }
    counted = { key, at: deps.now(), byType };
    return byType;
  };

  app.get('/v1/console/overview', {
    config,
    schema: { summary: 'Store, mirror freshness and counts by type, cache state and readiness, for the console', tags, response: { 200: obj, '4xx': errorResponse } },
  }, async (req) => {
    const reachable = await deps.store.ping();
    let size: number | null = null;
    let byType: Record<string, Record<string, number>> | null = null;
    if (reachable) {
      try {
        size = await deps.store.size();
        byType = await countByType(req, size);
      } catch (err) { throw storeUnavailable(err); }
    }
    // a brand-scoped key sees the size of its own brands only (the counts), never the whole mirror's
    if (req.principal!.brands !== '*') size = byType ? Object.values(byType).reduce((n, r) => n + (r.ONAY ?? 0) + (r.RET ?? 0), 0) : null;
    const freshAt = deps.checks.freshAt;
    const now = deps.now();
    const stale = deps.checks.isStale();
    const gap = [...deps.iys.sync.values()].some((w) => w.status().gap);
    const cache = (deps.store as { cache?: CacheStatsSource | null }).cache ?? null;
    return {
      now: new Date(now).toISOString(),
      store: { kind: deps.store.kind, reachable },
      mirror: {
        size, byType, asOf: deps.checks.asOf(), ageMs: freshAt === null ? null : now - freshAt,
        maxAgeMs: deps.config.mirrorMaxAgeMs ?? (deps.config.iys ? 7_200_000 : 0), stale, gap,
      },
      cache: cache ? { serving: cache.isEnabled, entries: cache.size, bytes: cache.calculatedBytes, ...cache.stats } : null,
      iysConfigured: deps.iys.client !== null,
      ready: reachable && !stale,
    };
  });

  app.get<{ Querystring: { seconds: number } }>('/v1/console/decisions', {
    config,
    schema: {
      summary: 'Decisions per second over the last hour (in memory), by brand, decision, reason and entrance', tags,
      querystring: { type: 'object', additionalProperties: false, properties: { seconds: { type: 'integer', minimum: 1, maximum: 3600, default: 3600 } } },
      response: { 200: obj, '4xx': errorResponse },
    },
  }, async (req) => deps.ring.snapshot(req.query.seconds, (b) => holdsBrand(req, b)));

  app.get('/v1/console/calendar', {
    config,
    schema: { summary: 'Official holidays (Law 2429) the outbox counts business days with, and today\'s Istanbul date', tags, response: { 200: obj, '4xx': errorResponse } },
  }, async () => {
    const holidays: { date: string; name: string; half: boolean }[] = [];
    for (let y = COVERED_YEARS.from; y <= COVERED_YEARS.to; y++) holidays.push(...holidaysOf(y));
    return { today: istanbulDate(new Date(deps.now())), halfDayPolicy: deps.config.policy.halfDayPolicy, coveredYears: COVERED_YEARS, holidays };
  });

  app.get<{ Querystring: { recipient: string; brandCode?: number; type?: ConsentType; recipientType: RecipientType } }>('/v1/console/lookup', {
    config,
    schema: {
      summary: 'One recipient: normalized form, every record of the brand with movements, and what /v1/check answers now', tags,
      querystring: {
        type: 'object', additionalProperties: false, required: ['recipient'],
        properties: { recipient, brandCode, type: consentType, recipientType },
      },
      response: { 200: obj, '4xx': errorResponse },
    },
  }, async (req) => {
    const q = req.query;
    const brand = requireBrand(req, q.brandCode, deps.servedBrands);
    const type: ConsentType = q.type ?? (q.recipient.includes('@') ? 'EPOSTA' : 'MESAJ');
    const n = normalizeRecipient(q.recipient, type);
    if (!n.ok) throw gatewayError('GW_ERR_INVALID_RECIPIENT', [n.message], { field: 'recipient' });
    const types: ConsentType[] = type === 'EPOSTA' ? ['EPOSTA'] : ['MESAJ', 'ARAMA'];
    const records = [];
    try {
      for (const t of types) {
        const canonical = normalizeRecipient(q.recipient, t);
        if (!canonical.ok) continue;
        for (const rt of ['BIREYSEL', 'TACIR'] as const) {
          const key = { brandCode: brand, recipientType: rt, type: t, recipient: canonical.canonical };
          const current = await deps.store.get(key);
          records.push({ type: t, recipientType: rt, recipient: canonical.canonical, current, movements: current ? await deps.store.history(key) : [] });
        }
      }
    } catch (err) { throw storeUnavailable(err); }
    const answer = (messageType: MessageType) => deps.checks.preview({ brandCode: brand, recipient: q.recipient, type, recipientType: q.recipientType, messageType });
    return {
      input: q.recipient, brandCode: brand, type, recipientType: q.recipientType, normalized: n.canonical, records,
      check: { TICARI: await answer('TICARI'), BILGILENDIRME: await answer('BILGILENDIRME') },
    };
  });
}
