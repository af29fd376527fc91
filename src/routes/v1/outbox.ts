import type { FastifyInstance } from 'fastify';
import { istanbulDate } from '../../domain/turkish-time.ts';
import { outboxSummary, type OutboxItem } from '../../iys/outbox.ts';
import { reconcileDay } from '../../iys/reconcile.ts';
import { gatewayError } from '../../errors.ts';
import { holdsBrand, ownItems, requireBrand } from '../../plugins/auth.ts';
import { maskPii } from '../../plugins/redact.ts';
import type { RouteDeps } from '../deps.ts';

/**
 * GET /v1/outbox and GET /v1/sync/status: items, summaries, sync states and reconciliation
 * reports of the key's brands only (issue 10 item 9). POST /v1/sync/reconcile: a brand the key holds.
 */
export default async function outboxRoutes(app: FastifyInstance, deps: RouteDeps) {
  app.get<{ Querystring: { state?: OutboxItem['state']; limit: number } }>('/v1/outbox', {
    config: { scope: ['outbox', 'console'] },
    schema: {
      summary: 'Items waiting for İYS, their states and deadlines', tags: ['outbox'],
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { state: { type: 'string', enum: ['pending', 'submitted', 'done', 'failed'] }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      },
    },
  }, async (req) => {
    const all = ownItems(req, await deps.iys.outbox.list(), (i) => i.brandCode);
    const items = (req.query.state ? all.filter((i) => i.state === req.query.state) : all)
      .sort((a, b) => (a.deadline ?? '9999').localeCompare(b.deadline ?? '9999')).slice(0, req.query.limit);
    return { summary: outboxSummary(all, deps.now()), items };
  });

  app.get('/v1/sync/status', {
    config: { scope: ['outbox', 'console'] },
    schema: { summary: 'Sync state of every brand (cursor, last pull, lag) and the outbox', tags: ['outbox'] },
  }, async (req) => {
    const now = deps.now();
    const brands = ownItems(req, deps.iys.sync.values(), (w) => w.brandCode).map((w) => {
      const s = w.status();
      return { ...s, lagSeconds: s.lastPullAt === null ? null : Math.round((now - s.lastPullAt) / 1000) };
    });
    const dl = deps.iys.deadLetters;
    // a fleet: what other instances recorded since this one last caught up (Redis down: what is known here)
    await dl.refresh().catch(() => {});
    // the 50 oldest open letters, recipient masked (the full raw item stays in <dataDir>/sync/dead-letters.log, or Redis in a fleet)
    // a key sees its brands' letters; one holding every brand also those of no brand it could hold
    const mine = (l: { brandCode: number | null }) => holdsBrand(req, l.brandCode ?? -1);
    const items = dl.openLetters().filter(mine).slice(0, 50).map((l) => ({
      id: l.id, brandCode: l.brandCode, via: l.via, ...(l.feed ? { feed: l.feed } : {}), reason: l.reason, field: l.field, message: l.message,
      at: new Date(l.at).toISOString(), attempts: l.attempts,
      raw: { ...l.raw, ...(typeof l.raw.recipient === 'string' ? { recipient: maskPii(l.raw.recipient) } : {}) },
    }));
    const client = deps.iys.workClient ?? deps.iys.client;
    return {
      iysConfigured: client !== null, asOf: deps.checks.asOf(), stale: deps.checks.isStale(), brands,
      outbox: outboxSummary(ownItems(req, await deps.iys.outbox.list(), (i) => i.brandCode), now),
      // a fleet on Redis: which instance leads İYS work (null: one instance, no lease)
      leader: await deps.iys.leader(),
      reconciliations: Object.fromEntries([...deps.iys.reconciliations].filter(([b]) => holdsBrand(req, b))),
      deadLetters: { ...dl.summary(mine), items },
      // replies kept for review (issue 14): counts of the whole queue (no content)
      ...(deps.inbound ? { optoutReview: (({ open, overdue }) => ({ open, overdue }))(deps.inbound.state.counts(istanbulDate(new Date(now)))) } : {}),
      clock: {
        iysSkewMs: client?.clockSkewMs ?? null, measuredAt: client?.clockSkewAt ? new Date(client.clockSkewAt).toISOString() : null,
        warnBoundMs: deps.config.iys?.clockSkewWarnMs ?? null,
      },
    };
  });

  app.post<{ Querystring: { brandCode: number; reportDate: string; confirm?: boolean } }>('/v1/sync/reconcile', {
    config: { scope: 'admin' },
    schema: {
      summary: 'Reconcile one brand and day against İYS\'s daily movement file and its SHA-384 agreement value', tags: ['outbox'],
      querystring: {
        type: 'object', additionalProperties: false, required: ['brandCode', 'reportDate'],
        properties: { brandCode: { type: 'integer', minimum: 1 }, reportDate: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, confirm: { type: 'boolean', default: false } },
      },
    },
  }, async (req) => {
    requireBrand(req, req.query.brandCode, deps.servedBrands);
    const client = deps.iys.client;
    if (!client) throw gatewayError('GW_ERR_IYS_NOT_CONFIGURED');
    if (!deps.iys.sync.has(req.query.brandCode)) throw gatewayError('GW_ERR_FORBIDDEN', [`brand ${req.query.brandCode}`], { field: 'brandCode' });
    return reconcileDay(client, deps.store, req.query.brandCode, req.query.reportDate, { confirm: req.query.confirm ?? false });
  });
}
