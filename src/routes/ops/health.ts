import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../deps.ts';

/** GET /healthz (process alive), GET /readyz (store reachable and mirror fresh; else 503). */
export default async function healthRoutes(app: FastifyInstance, deps: RouteDeps) {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
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
