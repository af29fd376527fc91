import type { FastifyInstance, FastifyReply } from 'fastify';
import { decisionDir, decisionKeys } from '../../check/decision-log/open-log.ts';
import { parseDecisionId } from '../../check/decision-log/record-format.ts';
import { decisionProof, decodeCursor, encodeCursor, queryDecisions, type DecisionQuery, type FoundDecision } from '../../check/decision-log/reader.ts';
import type { ConsentType } from '../../domain/types.ts';
import { gatewayError } from '../../errors.ts';
import { plusHint } from '../../mirror/timeline.ts';
import { ownBrand } from '../../plugins/auth.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from '../schemas.ts';

interface DecisionsQuery {
  recipient?: string; type?: ConsentType; brandCode?: number; from?: string; to?: string;
  decision?: 'ALLOW' | 'BLOCK'; reason?: string; entrance?: string; limit: number; cursor?: string;
}

const query = {
  type: 'object', additionalProperties: false,
  properties: {
    recipient: { type: 'string', minLength: 3, maxLength: 320 },
    type: { type: 'string', enum: ['MESAJ', 'ARAMA', 'EPOSTA'] },
    brandCode: { type: 'integer', minimum: 1 },
    from: { type: 'string', description: 'ISO 8601 time or epoch ms; inclusive' },
    to: { type: 'string', description: 'ISO 8601 time or epoch ms; inclusive' },
    decision: { type: 'string', enum: ['ALLOW', 'BLOCK'] },
    reason: { type: 'string', pattern: '^[A-Z_]{3,40}$' },
    entrance: { type: 'string', pattern: '^[a-z]{2,10}$' },
    limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 },
    cursor: { type: 'string', maxLength: 200 },
  },
} as const;

/** Epoch ms of a `from`/`to` parameter. @throws GW_ERR_VALIDATION naming the field */
function timeParam(v: string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d{10,15}$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw gatewayError('GW_ERR_VALIDATION', [`${field} must be an ISO 8601 time or epoch ms${plusHint(v)}`], { field });
  return ms;
}

const CSV_COLUMNS = ['id', 'time', 'entrance', 'via', 'apiKey', 'brandCode', 'type', 'recipientType', 'declaredMessageType', 'messageType', 'promotionalLint', 'decision', 'reason', 'consentStatus', 'consentSource', 'consentDate', 'movementRef', 'asOf', 'recipientHmac', 'recipient'] as const;
const csvCell = (v: unknown) => { const s = v === null || v === undefined ? '' : String(v); return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; };
/** One decision as a CSV line (CSV_COLUMNS). */
export function decisionCsvLine(d: FoundDecision): string {
  const row: Record<string, unknown> = {
    ...d, consentStatus: d.consent?.status, consentSource: d.consent?.source, consentDate: d.consent?.consentDate, movementRef: d.consent?.movementRef,
  };
  return CSV_COLUMNS.map((c) => csvCell(row[c])).join(',') + '\n';
}
export const DECISIONS_CSV_HEADER = CSV_COLUMNS.join(',') + '\n';

/**
 * `GET /v1/decisions?recipient=&type=&brandCode=&from=&to=&decision=&reason=&entrance=&limit=&cursor=`
 * (scope `audit`; a brand-scoped key sees only its brands): the decision log, newest first, as JSON
 * lines (default) or CSV (`Accept: text/csv`); the next page's cursor in `X-IYS-Gate-Next-Cursor`.
 * `GET /v1/decisions/<id>` (a request-level id, or `<id>/<index>`): its records with their chain proof.
 */
export default async function decisionRoutes(app: FastifyInstance, deps: RouteDeps) {
  const dirs = [decisionDir(deps.config), ...deps.config.decisions.readDirs];
  const keys = () => {
    const k = decisionKeys(deps.config, false);
    return { hmacKeys: k.hmacKeys, encryptionKey: undefined };
  };
  const visibleBrands = (req: { principal: { brands: readonly number[] | '*' } | null }) => (req.principal?.brands === '*' ? undefined : req.principal?.brands ?? []);

  app.get<{ Querystring: DecisionsQuery }>('/v1/decisions', {
    config: { scope: 'audit' },
    schema: { summary: 'Query the decision log (newest first, paged)', tags: ['audit'], querystring: query, response: { '4xx': errorResponse } },
  }, async (req, reply: FastifyReply) => {
    const q = req.query;
    if (q.brandCode !== undefined) ownBrand(req, q.brandCode);
    const cursor = q.cursor === undefined ? null : decodeCursor(q.cursor);
    if (q.cursor !== undefined && !cursor) throw gatewayError('GW_ERR_VALIDATION', ['cursor is not one this gateway gave'], { field: 'cursor' });
    await deps.checks.decisions?.commit().catch(() => undefined); // what was decided until now is readable
    const filter: DecisionQuery = {
      recipient: q.recipient, type: q.type, brandCode: q.brandCode, brands: visibleBrands(req), fromMs: timeParam(q.from, 'from'), toMs: timeParam(q.to, 'to'),
      decision: q.decision, reason: q.reason, entrance: q.entrance,
    };
    const { decisions, next } = queryDecisions(dirs, filter, keys(), { limit: q.limit, cursor });
    if (next) reply.header('x-iys-gate-next-cursor', encodeCursor(next));
    reply.header('cache-control', 'no-store');
    if (/\btext\/csv\b/.test(req.headers.accept ?? '')) {
      return reply.type('text/csv; charset=utf-8').send(DECISIONS_CSV_HEADER + decisions.map(decisionCsvLine).join(''));
    }
    return reply.type('application/x-ndjson').send(decisions.map((d) => JSON.stringify(d) + '\n').join(''));
  });

  const one = async (req: { principal: { brands: readonly number[] | '*' } | null }, raw: string) => {
    const id = parseDecisionId(raw);
    if (!id) throw gatewayError('GW_ERR_VALIDATION', ['not a decision id (<8 hex>-<base 36>[/<index>])'], { field: 'id' });
    await deps.checks.decisions?.commit().catch(() => undefined);
    const { decisions } = queryDecisions(dirs, { id, brands: visibleBrands(req) }, keys(), { limit: 100_000 });
    if (decisions.length === 0) {
      // another brand's request: refused as every other brand's resource is (403), never shown
      if (visibleBrands(req) !== undefined && queryDecisions(dirs, { id }, keys(), { limit: 1 }).decisions.length > 0) throw gatewayError('GW_ERR_FORBIDDEN', ['a decision of another brand'], { field: 'id' });
      throw gatewayError('GW_ERR_DECISION_NOT_FOUND', [raw]);
    }
    decisions.reverse(); // request order
    const proofs = decisions.slice(0, 100).map((d) => ({ id: d.id, proof: decisionProof(dirs, d.instanceId, d.segment, d.recordNo) }));
    return { id: raw, count: decisions.length, decisions, proofs };
  };
  app.get<{ Params: { id: string } }>('/v1/decisions/:id', {
    config: { scope: 'audit' },
    schema: { summary: 'One request\'s decisions with their chain proof', tags: ['audit'], response: { '4xx': errorResponse } },
  }, async (req) => one(req, req.params.id));
  // `<id>/<index>`: one recipient of the request
  app.get<{ Params: { id: string; index: string } }>('/v1/decisions/:id/:index', {
    config: { scope: 'audit' },
    schema: { summary: 'One decision with its chain proof', tags: ['audit'], response: { '4xx': errorResponse } },
  }, async (req) => one(req, `${req.params.id}/${req.params.index}`));
}
