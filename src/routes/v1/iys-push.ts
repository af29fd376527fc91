import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { gatewayError, storeUnavailable } from '../../errors.ts';
import { readIysMovement, type RawIysMovement } from '../../iys/iys-movement.ts';
import type { DeadLetters } from '../../iys/dead-letters.ts';
import type { Movement } from '../../domain/types.ts';
import type { RouteDeps } from '../deps.ts';

const sha = (s: string) => createHash('sha256').update(s).digest();

/**
 * POST /v1/iys/push: İYS push deliveries (`{list:[…IYS_* movements]}`, İYS API "push"), with HTTP
 * Basic auth compared in constant time against `iys.push`. Applied at once (well within İYS's 5 s
 * timeout). At-least-once and unordered delivery is safe: applying is idempotent per movement and
 * ordered by consentDate/creationDate, never by arrival. A store failure answers 503 so İYS retries.
 * An item that cannot be applied (readIysMovement: an ONAY dated ahead of the gateway clock, a
 * value İYS never produces, no key, a brand not served) is written to the durable dead-letter store
 * before the 200 (retried on every pull cycle); if that write fails the answer is 503 and İYS
 * redelivers. A RET that can be keyed is always applied (issue 12 item 4).
 */
export default async function pushRoutes(app: FastifyInstance, deps: RouteDeps) {
  const creds = deps.config.iys?.push;
  if (!creds) return;
  const want = sha(`${creds.username}:${creds.password}`);
  const brands = new Set(deps.config.iys!.brands);
  app.post<{ Body: { list: RawIysMovement[] } }>('/v1/iys/push', {
    bodyLimit: 5 * 1024 * 1024,
    schema: {
      summary: 'İYS push notifications (HTTP Basic auth, config iys.push)', tags: ['iys'], security: [{ basic: [] }],
      body: { type: 'object', required: ['list'], properties: { list: { type: 'array', maxItems: 10_000, items: { type: 'object' } } } },
    },
    onRequest: async (req, reply) => {
      const h = req.headers.authorization ?? '';
      const got = h.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString('utf8') : '';
      if (!timingSafeEqual(sha(got), want)) {
        reply.header('www-authenticate', 'Basic realm="iys-gate push"');
        throw gatewayError('GW_ERR_UNAUTHORIZED');
      }
    },
  }, async (req) => {
    const movements: Movement[] = [];
    const refused: Parameters<DeadLetters['add']>[0] = [];
    const nowMs = deps.now();
    for (const raw of req.body.list) {
      const brand = typeof raw === 'object' && raw !== null ? Number(raw.brandCode) : NaN;
      if (!brands.has(brand)) {
        refused.push({ brandCode: Number.isSafeInteger(brand) ? brand : null, via: 'push', reason: 'unknown_brand', field: 'brandCode', message: 'a brand this gateway does not serve (iys.brands)', raw });
        continue;
      }
      const m = readIysMovement(brand, raw, nowMs);
      if ('reason' in m) refused.push({ brandCode: brand, via: 'push', ...m, raw });
      else movements.push(m);
    }
    // both durable before the 200: the movements in the mirror, the refused items in the dead-letter store
    const [applied, lettered] = await Promise.allSettled([
      deps.store.apply(movements),
      refused.length ? deps.iys.deadLetters.add(refused) : Promise.resolve([]),
    ]);
    if (applied.status === 'rejected') throw storeUnavailable(applied.reason);
    if (lettered.status === 'rejected') {
      req.log.error({ err: lettered.reason }, 'push items could not be dead-lettered; answering 503 so İYS redelivers');
      throw gatewayError('GW_ERR_STORE_UNAVAILABLE', ['dead-letter store write failed']);
    }
    const outcomes = applied.value;
    const now = deps.now();
    for (const b of new Set(movements.map((m) => m.brandCode))) await deps.iys.sync.get(b)?.pushed(now);
    const rejected = refused.length;
    if (rejected) req.log.warn({ rejected, reasons: [...new Set(refused.map((r) => r.reason))] }, 'push items that cannot be applied kept in the dead-letter store');
    return {
      received: req.body.list.length, rejected, deadLettered: rejected,
      applied: outcomes.filter((o) => o === 'applied').length,
      ignoredOlder: outcomes.filter((o) => o === 'ignoredOlder').length,
      duplicate: outcomes.filter((o) => o === 'duplicate').length,
    };
  });
}
