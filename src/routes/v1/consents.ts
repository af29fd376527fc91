import type { FastifyInstance } from 'fastify';
import { normalizeRecipient } from '../../domain/recipient.ts';
import type { ConsentType, RecipientType } from '../../domain/types.ts';
import { gatewayError, storeUnavailable } from '../../errors.ts';
import { requireBrand } from '../../plugins/auth.ts';
import type { RouteDeps } from '../deps.ts';
import { consentsQuery, errorResponse } from '../schemas.ts';

interface ConsentsQuery { brandCode?: number; type: ConsentType; recipientType: RecipientType; recipient: string }

/** GET /v1/consents: the current record of a key and its movements, newest first (API.md). */
export default async function consentRoutes(app: FastifyInstance, deps: RouteDeps) {
  app.get<{ Querystring: ConsentsQuery }>('/v1/consents', {
    config: { scope: ['consents', 'console'] },
    schema: { summary: 'Current consent record and its movements', tags: ['consents'], querystring: consentsQuery, response: { '4xx': errorResponse } },
  }, async (req) => {
    const q = req.query;
    const brandCode = requireBrand(req, q.brandCode, deps.servedBrands);
    const n = normalizeRecipient(q.recipient, q.type);
    if (!n.ok) throw gatewayError('GW_ERR_INVALID_RECIPIENT', [n.message], { field: 'recipient' });
    const key = { brandCode, recipientType: q.recipientType, type: q.type, recipient: n.canonical };
    let current;
    let movements;
    try {
      current = await deps.store.get(key);
      movements = current ? await deps.store.history(key) : [];
    } catch (err) {
      throw storeUnavailable(err);
    }
    if (!current) throw gatewayError('GW_ERR_CONSENT_NOT_FOUND');
    return { key, current, movements };
  });
}
