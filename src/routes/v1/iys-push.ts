import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { gatewayError, storeUnavailable } from '../../errors.ts';
import { fromIysMovement, type RawIysMovement } from '../../iys/iys-movement.ts';
import type { Movement } from '../../domain/types.ts';
import type { RouteDeps } from '../deps.ts';

const sha = (s: string) => createHash('sha256').update(s).digest();

/**
 * POST /v1/iys/push: İYS push deliveries (`{list:[…IYS_* movements]}`, İYS API "push"), with HTTP
 * Basic auth compared in constant time against `iys.push`. Applied at once (well within İYS's 5 s
 * timeout). At-least-once and unordered delivery is safe: applying is idempotent per movement and
 * ordered by consentDate/creationDate, never by arrival. A store failure answers 503 so İYS retries.
 */
export default async function pushRoutes(app: FastifyInstance, deps: RouteDeps) {
  const creds = deps.config.iys?.push;
  if (!creds) return;
  const want = sha(`${creds.username}:${creds.password}`);
  const brands = new Set(deps.config.iys!.brands);
  app.post<{ Body: { list: RawIysMovement[] } }>('/v1/iys/push', {
    bodyLimit: 5 * 1024 * 1024,
    schema: {
      summary: 'İYS push notifications (HTTP Basic auth)', tags: ['iys'],
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
    let rejected = 0;
    for (const raw of req.body.list) {
      const brand = Number(raw.brandCode);
      if (!brands.has(brand)) { rejected++; continue; }
      const m = fromIysMovement(brand, raw, deps.now());
      if ('error' in m) { rejected++; continue; }
      movements.push(m);
    }
    let outcomes;
    try { outcomes = await deps.store.apply(movements); } catch (err) {
      throw storeUnavailable(err);
    }
    const now = deps.now();
    for (const b of new Set(movements.map((m) => m.brandCode))) await deps.iys.sync.get(b)?.pushed(now);
    if (rejected) req.log.warn({ rejected }, 'unreadable push items skipped');
    return {
      received: req.body.list.length, rejected,
      applied: outcomes.filter((o) => o === 'applied').length,
      ignoredOlder: outcomes.filter((o) => o === 'ignoredOlder').length,
      duplicate: outcomes.filter((o) => o === 'duplicate').length,
    };
  });
}
