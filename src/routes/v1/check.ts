import type { FastifyInstance } from 'fastify';
import type { ConsentType, MessageType, RecipientType } from '../../domain/types.ts';
import { gatewayError } from '../../errors.ts';
import { requireBrand } from '../../plugins/auth.ts';
import type { RouteDeps } from '../deps.ts';
import { batchBody, batchResponse, checkBody, checkResponse, errorResponse } from '../schemas.ts';

interface CheckBody {
  brandCode?: number; recipient: string; type: ConsentType; recipientType: RecipientType;
  messageType: MessageType; retailerCode?: number;
}
interface BatchBody extends Omit<CheckBody, 'recipient'> { recipients: string[] }

/** POST /v1/check and POST /v1/check/batch (API.md). */
export default async function checkRoutes(app: FastifyInstance, deps: RouteDeps) {
  app.post<{ Body: CheckBody }>('/v1/check', {
    config: { scope: 'check' },
    schema: {
      summary: 'May this message go to this recipient?', tags: ['check'],
      body: checkBody, response: { 200: checkResponse, '4xx': errorResponse },
    },
  }, (req, reply) => {
    const b = req.body;
    const brandCode = requireBrand(req, b.brandCode, deps.servedBrands);
    const r = {
      brandCode, recipient: b.recipient, type: b.type, recipientType: b.recipientType,
      messageType: b.messageType, retailerCode: b.retailerCode,
    };
    // answered at once when the store can (embedded, warm cache): no promise on the hot path
    const answer = deps.checks.checkNow(r, { entrance: 'check', via: '', keyName: req.principal!.name });
    return answer instanceof Promise ? answer : reply.send(answer);
  });

  const max = deps.config.batchMaxRecipients;
  app.post<{ Body: BatchBody }>('/v1/check/batch', {
    config: { scope: 'check' },
    // C36: the hard size limit is enforced before schema validation walks the items.
    preValidation: async (req) => {
      const r = (req.body as { recipients?: unknown } | null)?.recipients;
      if (Array.isArray(r) && r.length > max) throw gatewayError('GW_ERR_BATCH_TOO_LARGE', [r.length, max], { field: 'recipients' });
    },
    schema: {
      summary: `Decide a list of 1 to ${max} recipients in one call`, tags: ['check'],
      body: batchBody, response: { 200: batchResponse, '4xx': errorResponse },
    },
  }, async (req, reply) => {
    const b = req.body;
    const brandCode = requireBrand(req, b.brandCode, deps.servedBrands);
    const out = await deps.checks.checkBatch({
      brandCode, type: b.type, recipientType: b.recipientType, messageType: b.messageType, retailerCode: b.retailerCode,
    }, b.recipients, { entrance: 'batch', via: '', keyName: req.principal!.name });
    if (out.decisionId) reply.header('x-iys-gate-decision-id', out.decisionId);
    return out;
  });
}
