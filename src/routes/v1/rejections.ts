import type { FastifyInstance } from 'fastify';
import { recordRefusal } from '../../check/refusals.ts';
import type { ConsentSource, ConsentType, RecipientType } from '../../domain/types.ts';
import { gatewayError } from '../../errors.ts';
import { requireBrand } from '../../plugins/auth.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse, rejectionBody, rejectionResponse } from '../schemas.ts';

interface RejectionBody {
  brandCode?: number; recipient: string; type: ConsentType; recipientType: RecipientType;
  source?: ConsentSource; receivedAt?: string;
}

export { DEFAULT_RET_SOURCE } from '../../check/refusals.ts';

/**
 * POST /v1/rejections: a refusal the company received itself, recorded through the gate's one
 * refusal path (check/refusals.ts `recordRefusal`). Queued in the durable outbox, then
 * applied to the mirror durably (journal fsync / Redis), both before the 201, so the next check
 * blocks and a crash loses nothing; a 503 (store down or slow) may leave it queued, never applied
 * unqueued.
 * `reportDeadline`: the last business day to register it in İYS (3 business days from the day
 * after receivedAt, Europe/Istanbul; regulation art. 9, DOMAIN.md §1.4).
 */
export default async function rejectionRoutes(app: FastifyInstance, deps: RouteDeps) {
  app.post<{ Body: RejectionBody }>('/v1/rejections', {
    config: { scope: 'rejections' },
    schema: {
      summary: 'Record a refusal (RET) received through the company\'s own channels', tags: ['rejections'],
      body: rejectionBody, response: { 201: rejectionResponse, '4xx': errorResponse },
    },
  }, async (req, reply) => {
    const b = req.body;
    const brandCode = requireBrand(req, b.brandCode, deps.servedBrands);
    const now = deps.now();
    let at: Date | undefined;
    if (b.receivedAt !== undefined) {
      at = new Date(b.receivedAt);
      if (Number.isNaN(at.getTime())) throw gatewayError('GW_ERR_VALIDATION', ['receivedAt is not an ISO 8601 date-time'], { field: 'receivedAt' });
      if (at.getTime() > now + 60_000) throw gatewayError('GW_ERR_VALIDATION', ['receivedAt is in the future'], { field: 'receivedAt' });
      if (at.getTime() < Date.UTC(2015, 3, 30, 21)) throw gatewayError('GW_ERR_VALIDATION', ['receivedAt is before 2015-05-01 (H156)'], { field: 'receivedAt' });
    }
    const result = await recordRefusal(
      { store: deps.store, outbox: deps.iys.outbox, halfDayPolicy: deps.config.policy.halfDayPolicy, now: deps.now },
      { brandCode, recipient: b.recipient, type: b.type, recipientType: b.recipientType, source: b.source, receivedAt: at ?? new Date(now) },
    );
    deps.metrics.rejections.inc();
    reply.code(201);
    return result;
  });
}
