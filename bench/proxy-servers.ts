/**
 * Child servers of bench/proxy.bench.ts, one process each (127.0.0.1):
 * - `--mode stub --port N`: a Netgsm-like upstream: `POST /sms/rest/v2/send` reads the body and
 *   answers `{"code":"00","jobid":"…","description":"queued"}` (node:http, keep-alive 65 s).
 * - `--mode replyfrom --port N --upstream URL`: the plain pass-through proxy of the comparison:
 *   fastify + @fastify/reply-from (its undici pool), no parsing, no checks.
 * - `--mode gateway --port N --upstream URL [--consents N]`: iys-gate's proxy as the app runs it
 *   (error handler, auth and metrics plugins, proxy routes, logs at warn) on an in-memory mirror
 *   holding N ONAY consents (`+90555` + 7 digits, MESAJ/BIREYSEL, brand 7); upstream `netgsm`.
 *   Also serves `POST /v1/scrub` for the scrub benchmark.
 * Every mode answers `GET /healthz` with 200 once listening.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { CheckService } from '../src/check/check-service.ts';
import { loadConfig } from '../src/config/load.ts';
import { MemoryStore } from '../src/mirror/memory-store.ts';
import { KeyRing } from '../src/plugins/api-keys.ts';
import auth from '../src/plugins/auth.ts';
import errorHandler from '../src/plugins/error-handler.ts';
import metricsPlugin, { GatewayMetrics } from '../src/plugins/metrics.ts';
import { proxyRoutes } from '../src/routes/proxy/index.ts';
import { scrubRoutes } from '../src/routes/v1/scrub.ts';

import { BENCH_BRAND, BENCH_KEY, benchNo } from './proxy-shared.ts';

// exit through process.exit so `--cpu-prof` writes its profile
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(0));

const { values } = parseArgs({ options: { mode: { type: 'string' }, port: { type: 'string' }, upstream: { type: 'string' }, consents: { type: 'string' } } });
const port = Number(values.port);

if (values.mode === 'stub') {
  let n = 0;
  const server = createServer((req, res) => {
    if (req.method === 'GET') { res.end('ok'); return; }
    req.resume();
    req.on('end', () => {
      const body = `{"code":"00","jobid":"${++n}","description":"queued"}`;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
} else if (values.mode === 'replyfrom') {
  const replyFrom = (await import('@fastify/reply-from')).default;
  const app = Fastify({ logger: false });
  await app.register(replyFrom, { base: values.upstream!, undici: { connections: 64, pipelining: 1, keepAliveTimeout: 2_000 } });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  app.get('/healthz', async () => 'ok');
  app.post('/*', (req, reply) => reply.from(req.url));
  await app.listen({ port, host: '127.0.0.1' });
} else if (values.mode === 'gateway') {
  const config = loadConfig({ env: {}, overrides: {
    dataDir: '/nonexistent-unused', logLevel: 'warn',
    apiKeys: [{ name: 'bench', key: BENCH_KEY, brands: [BENCH_BRAND], scopes: ['proxy', 'check'] }],
    upstreams: [{ name: 'netgsm', adapter: 'netgsm', url: values.upstream!, brandCode: BENCH_BRAND }],
  } });
  const store = new MemoryStore({ dataDir: null });
  await store.open();
  const n = Number(values.consents ?? 10_000);
  for (let i = 0; i < n; i += 10_000) {
    await store.apply(Array.from({ length: Math.min(10_000, n - i) }, (_x, k) => ({
      brandCode: BENCH_BRAND, recipientType: 'BIREYSEL' as const, type: 'MESAJ' as const, recipient: `+90${benchNo(i + k)}`, status: 'ONAY' as const,
      source: 'HS_WEB' as const, consentDate: '2026-01-05 10:00:00', creationDate: '2026-01-05 10:00:05', transactionId: null,
    })));
  }
  const checks = new CheckService({ store, policy: { tacirWithoutRecord: 'allow' }, mirrorMaxAgeMs: 0 });
  const keys = new KeyRing({ apiKeys: config.apiKeys, dataDir: '/nonexistent-unused' });
  const metrics = new GatewayMetrics();
  const app = Fastify({ logger: { level: 'warn' }, disableRequestLogging: true, keepAliveTimeout: 72_000 });
  await app.register(errorHandler);
  await app.register(auth, { keys, servedBrands: [BENCH_BRAND] });
  await app.register(metricsPlugin, { metrics });
  const deps = { config, store, checks, metrics, servedBrands: [BENCH_BRAND], keys };
  await app.register(proxyRoutes, deps);
  await app.register(scrubRoutes, deps);
  app.get('/healthz', async () => 'ok');
  // bench only: memory after a full GC (started with --expose-gc), to tell retained memory from
  // garbage V8 has not collected yet
  app.get('/_bench/memory', async () => {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage();
  });
  await app.listen({ port, host: '127.0.0.1' });
} else {
  console.error('--mode stub|replyfrom|gateway');
  process.exit(2);
}
