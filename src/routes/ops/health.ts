import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.ts';

/** GET /healthz (process alive), GET /readyz (store reachable and mirror fresh; else 503). */
export default async function healthRoutes(app: FastifyInstance, deps: RouteDeps) {
  app.get('/healthz', {
    schema: { summary: 'Liveness: 200 while the process runs', tags: ['operations'], security: [], response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } } },
  }, async () => ({ status: 'ok' }));
  const ready = {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ready', 'not ready'] },
      store: { type: 'object', properties: { kind: { type: 'string' }, reachable: { type: 'boolean' } } },
      mirror: { type: 'object', properties: { asOf: { type: ['string', 'null'] }, stale: { type: 'boolean' }, gap: { type: 'boolean' } } },
    },
  } as const;
  app.get('/readyz', {
    schema: { summary: 'Readiness: 200 when the store answers and the mirror is fresh, else 503', tags: ['operations'], security: [], response: { 200: ready, 503: ready } },
  }, async (_req, reply) => {
    const storeOk = await deps.store.ping();
    const stale = deps.checks.isStale();
    // a sync gap (no complete pull within the feed's 7 days) needs a full resync (README "Sync")
    const gap = [...deps.iys.sync.values()].some((w) => w.status().gap);
    const body = {
      status: storeOk && !stale ? 'ready' : 'not ready',
      store: { kind: deps.store.kind, reachable: storeOk },
      mirror: { asOf: deps.checks.asOf(), stale, gap },
    };
    reply.code(storeOk && !stale ? 200 : 503);
    return body;
  });
}
