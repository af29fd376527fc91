import type { FastifyInstance } from 'fastify';
import { normalizeRecipient } from '../../domain/recipient.ts';
import type { ConsentKey, ConsentType, RecipientType } from '../../domain/types.ts';
import { parseTimeParam, plusHint, recordAt } from '../../mirror/timeline.ts';
import { gatewayError, storeUnavailable } from '../../errors.ts';
import { requireBrand } from '../../plugins/auth.ts';
import type { RouteDeps } from '../deps.ts';
import { consentsQuery, errorResponse } from '../schemas.ts';

interface ConsentsQuery { brandCode?: number; type: ConsentType; recipientType: RecipientType; recipient: string; at?: string }

/**
 * GET /v1/consents: the current record of a key and its movements, newest first (API.md).
 * With `at=<ISO 8601 time | epoch ms>` (issue 15): the record as the mirror held it at that time,
 * from the movement history (timeline.ts), as `{key, at, atMs, current, appliedAt, historyFrom,
 * movements}`: `current` the record then in force, `appliedAt` (ms) when the mirror applied it,
 * `movements` those applied up to `at`, newest first, each with `appliedAt` and `outcome`,
 * `historyFrom` (ms) the first applied time the history still holds for the key.
 * Errors: 400 GW_ERR_VALIDATION (field `at`) for an unreadable time; 404 GW_ERR_NO_RECORD_AT when
 * the mirror held no record of the key then (or its history does not reach back that far).
 */
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
    if (q.at !== undefined) return recordAtAnswer(deps, key, q.at);
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

/** The `at=` answer of GET /v1/consents (see consentRoutes). */
async function recordAtAnswer(deps: RouteDeps, key: ConsentKey, atText: string) {
  const atMs = parseTimeParam(atText);
  if (atMs === null || atMs > 8_640_000_000_000_000) {
    throw gatewayError('GW_ERR_VALIDATION', [`at must be an ISO 8601 time (2026-03-02T09:15:00%2B03:00 in a URL) or epoch ms${plusHint(atText)}`], { field: 'at' });
  }
  let entries;
  try {
    entries = await deps.store.timeline(key);
  } catch (err) {
    throw storeUnavailable(err);
  }
  const at = new Date(atMs).toISOString();
  const found = recordAt(entries, atMs);
  if (!found) {
    throw gatewayError('GW_ERR_NO_RECORD_AT', [at, entries.length > 0
      ? `its movement history begins at ${new Date(entries[0]!.appliedAt).toISOString()}`
      : 'no movement of this key is in the movement history']);
  }
  const movements = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.appliedAt <= atMs) movements.push({ ...e.movement, appliedAt: e.appliedAt, outcome: e.outcome });
  }
  return { key, at, atMs, current: found.movement, appliedAt: found.appliedAt, historyFrom: entries[0]!.appliedAt, movements };
}
