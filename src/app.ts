import { Counter, type Registry } from 'prom-client';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { CheckService } from './check/check-service.ts';
import { createDecisionLog } from './check/decision-log/open-log.ts';
import type { DecisionLog } from './check/decision-log/decision-log.ts';
import { DecisionRing } from './check/decision-ring.ts';
import type { GatewayConfig } from './config/schema.ts';
import type { ConsentStore } from './mirror/consent-store.ts';
import { KeyRing } from './plugins/api-keys.ts';
import { ERROR_DEFINITIONS, gatewayError } from './errors.ts';
import auth, { servedBrandsOf } from './plugins/auth.ts';
import errorHandler, { frameworkErrors } from './plugins/error-handler.ts';
import metricsPlugin, { GatewayMetrics, registerCacheMetrics, registerIysMetrics, type CacheStatsSource } from './plugins/metrics.ts';
import { maskDeep, maskPii } from './plugins/redact.ts';
import { RequestBounds } from './plugins/request-bounds.ts';
import healthRoutes from './routes/ops/health.ts';
import checkRoutes from './routes/v1/check.ts';
import consentRoutes from './routes/v1/consents.ts';
import importRoutes from './routes/v1/import.ts';
import rejectionRoutes from './routes/v1/rejections.ts';
import consentWriteRoutes from './routes/v1/consents-write.ts';
import outboxRoutes from './routes/v1/outbox.ts';
import pushRoutes from './routes/v1/iys-push.ts';
import uploadRoutes from './routes/v1/iys-upload.ts';
import { IysIntegration } from './iys/integration.ts';
import { proxyRoutes } from './routes/proxy/index.ts';
import { scrubRoutes } from './routes/v1/scrub.ts';
import { sendRoutes } from './routes/v1/send.ts';
import decisionRoutes from './routes/v1/decisions.ts';
import consoleRoutes from './routes/v1/console.ts';
import consoleStatic from './routes/console/static.ts';
import type { RouteDeps } from './routes/deps.ts';
import inboundRoutes from './routes/v1/inbound.ts';
import { unsubscribeRoutes } from './routes/unsubscribe.ts';
import { SmtpRelay } from './transports/smtp/relay.ts';
import { RedisReports, shareRemovalReports } from './check/removal-reports.ts';
import type { RedisStore } from './mirror/redis-store.ts';
import { AgiServer, screeningDecide } from './transports/agi/server.ts';
import { contentCheckPolicy, openInbound, type InboundDoor } from './transports/inbound/index.ts';

declare module 'fastify' {
  interface FastifyInstance { checks: CheckService; iys: IysIntegration; requestBounds: RequestBounds; inbound: InboundDoor; decisions: DecisionLog | null; smtpRelay: SmtpRelay | null; decisionRing: DecisionRing; agi: AgiServer | null }
}

// ajv-formats is CommonJS: its default export arrives wrapped under ESM interop.
const addFormats = ((addFormatsPlugin as unknown as { default?: typeof addFormatsPlugin }).default ?? addFormatsPlugin) as unknown as (a: Ajv) => Ajv;

const OPENAPI_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'parameters', 'summary', 'description', 'servers']);

/** What buildApp needs besides the config. */
export interface AppDeps {
  store: ConsentStore;
  keys: KeyRing;
  metrics?: GatewayMetrics;
  /** pino destination / options override (tests capture logs through a stream). */
  logger?: boolean | Record<string, unknown>;
  /** Clock for freshness (tests). */
  now?: () => number;
}

/** pino options: JSON logs with every string masked (C34) and secrets redacted. */
export function loggerOptions(config: GatewayConfig, stream?: NodeJS.WritableStream): Record<string, unknown> {
  return {
    level: config.logLevel,
    ...(stream ? { stream } : {}),
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'], censor: '[redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string; id?: string }) => ({ id: req.id, method: req.method, url: typeof req.url === 'string' ? maskPii(req.url) : undefined }),
    },
    formatters: { log: (obj: Record<string, unknown>) => maskDeep(obj) as Record<string, unknown> },
    hooks: {
      logMethod(this: unknown, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? maskPii(a) : a)));
      },
    },
  };
}

/**
 * Builds the gateway (never listens): plugins, then routes. The store must be opened by the caller.
 * @param config frozen config from config/load.ts
 */
export async function buildApp(config: GatewayConfig, deps: AppDeps): Promise<FastifyInstance> {
  let bounds: RequestBounds | undefined;
  const app = Fastify({
    logger: deps.logger === undefined ? loggerOptions(config) : deps.logger,
    bodyLimit: config.bodyLimitBytes,
    // access logs are off on the hot path; errors are always logged
    logController: new LogController({ disableRequestLogging: true }),
    // no per-request child logger (it cost ~1.4 µs a request, bench/README.md); error logs carry reqId themselves
    childLoggerFactory: (logger) => logger,
    // every phase of a request is bounded by request-bounds.ts (headers, body idle, whole request
    // for non-streaming routes: imports and scrubs stream for minutes, review C3); it owns the server
    serverFactory: (handler) => {
      bounds = new RequestBounds({
        headersTimeoutMs: config.headersTimeoutMs, bodyIdleTimeoutMs: config.bodyIdleTimeoutMs,
        requestTimeoutMs: config.requestTimeoutMs, keepAliveTimeoutMs: 72_000,
      }, handler);
      return bounds.server;
    },
    frameworkErrors,
  });
  const requestBounds = bounds!;
  // Errors Node's HTTP parser raises before fastify sees a request (431, malformed headers) get
  // the same coded JSON shape as every other error (review W4).
  app.server.removeAllListeners('clientError');
  app.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const code = status === 431 ? 'GW_ERR_HEADERS_TOO_LARGE' : status === 408 ? 'GW_ERR_REQUEST_TIMEOUT' : 'GW_ERR_BAD_REQUEST';
    const body = JSON.stringify({ statusCode: status, code, error: status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request', message: ERROR_DEFINITIONS[code].message });
    socket.end(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    (socket as Socket).destroySoon(); // a half-open peer that keeps trickling must not hold the socket
  });
  // JSON routes take JSON only: a text/plain body is 415, not a confusing schema error (review W5);
  // the CSV routes register their own text parsers.
  app.removeContentTypeParser('text/plain');
  // `?brandCode=0x10` or `1e5` must not be coerced into another brand (review W1): checked on the
  // routes whose query string takes a brandCode, before validation coerces it (not on the hot path).
  const strictBrand = async (req: FastifyRequest) => {
    const b = (req.query as Record<string, unknown> | undefined)?.brandCode;
    if (typeof b === 'string' && !/^[1-9]\d{0,8}$/.test(b)) throw gatewayError('GW_ERR_VALIDATION', ['brandCode must be a positive integer in decimal digits'], { field: 'brandCode' });
  };
  app.addHook('onRoute', (route) => {
    // handlers that may write are tracked so a shutdown closes the store only after they settled
    // (C45); the two check routes only read and stay off it (hot path)
    if (![route.method].flat().every((m) => m === 'GET' || m === 'HEAD') && route.url !== '/v1/check' && route.url !== '/v1/check/batch') {
      route.handler = requestBounds.trackHandler(route.handler);
    }
    const qs = route.schema?.querystring as { properties?: Record<string, unknown> } | undefined;
    if (!qs?.properties?.brandCode) return;
    const pre = route.preValidation;
    route.preValidation = pre ? [strictBrand, ...(Array.isArray(pre) ? pre : [pre])] : [strictBrand];
  });
  // Bodies are validated strictly (a number is not a recipient); query strings are coerced
  // (`?brandCode=7`). Neither removes unknown properties: they are errors.
  const strict = new Ajv({ removeAdditional: false, allErrors: false, coerceTypes: false, useDefaults: true, strict: false });
  const coercing = new Ajv({ removeAdditional: false, allErrors: false, coerceTypes: 'array', useDefaults: true, strict: false });
  addFormats(strict); addFormats(coercing);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
  const metrics = deps.metrics ?? new GatewayMetrics();
  const decisions = createDecisionLog(config, (m) => app.log.warn(m));
  if (decisions) app.addHook('onClose', async () => { await decisions.close(); });
  // the console's per-second counters of the last hour (Decisions page)
  const ring = new DecisionRing(deps.now ? { now: deps.now } : {});
  const checks = new CheckService({
    decisions,
    store: deps.store,
    policy: { tacirWithoutRecord: config.policy.tacirWithoutRecord, tacirOverBireyselRet: config.policy.tacirOverBireyselRet },
    mirrorMaxAgeMs: config.mirrorMaxAgeMs ?? (config.iys ? 7_200_000 : 0),
    lookupTimeoutMs: Math.max(config.redis.commandTimeoutMs * 4, 100),
    onDecision: (t, mt, d, r, n, b, e) => { metrics.decision(t, mt, d, r, n); ring.record(b, e, d, r, n); },
    ...(deps.now ? { now: deps.now } : {}),
    contentCheck: contentCheckPolicy(config, metrics.registry),
  });
  const freshAt = config.iys ? null : await deps.store.getMeta('mirror.freshAt').catch(() => null);
  if (freshAt) checks.markFresh(Number(freshAt));
  metrics.mirrorSize.set(await deps.store.size().catch(() => 0));
  if (deps.store.kind === 'redis' && !config.iys) {
    // A fleet shares one mirror: an import through another instance makes it fresh here too.
    // Followed every 5 s (one HGET); the consent count is re-read when that changes.
    const follow = setInterval(() => {
      void deps.store.getMeta('mirror.freshAt').then(async (v) => {
        const at = v === null ? NaN : Number(v);
        if (!Number.isFinite(at) || at === checks.freshAt) return;
        checks.markFresh(at);
        metrics.mirrorSize.set(await deps.store.size());
      }).catch(() => { /* Redis unreachable: /readyz says so; try again next time */ });
    }, 5000);
    follow.unref();
    app.addHook('onClose', async () => { clearInterval(follow); });
  }
  const cache = (deps.store as { cache?: CacheStatsSource | null }).cache;
  if (cache) registerCacheMetrics(metrics, cache);
  const servedBrands = servedBrandsOf(config);
  // a fleet: every door's removal reports are found from any instance (before any door registers)
  if (deps.store.kind === 'redis') {
    const rs = deps.store as RedisStore;
    shareRemovalReports(config, new RedisReports({ client: rs.redis, keyPrefix: rs.keyPrefix }));
  }
  const iys = new IysIntegration({ config, store: deps.store, log: app.log, onFresh: (at) => checks.markFresh(at), ...(deps.now ? { now: deps.now } : {}) });
  await iys.open();
  app.addHook('onClose', async () => { await iys.close(); });
  registerIysMetrics(metrics, iys, deps.now ?? Date.now, () => checks.isStale());
  // the inbound door (issue 14): replies read for refusals; app.inbound.replies is what the SMPP front's deliver_sm hands to handleInboundReply
  const inbound = await openInbound(config, { store: deps.store, outbox: iys.outbox, now: deps.now ?? Date.now, log: app.log, registry: metrics.registry });
  app.addHook('onClose', async () => { await inbound.close(); });
  const routeDeps: RouteDeps = { config, store: deps.store, checks, metrics, servedBrands, iys, inbound, now: deps.now ?? Date.now };

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'iys-gate', version: '1', description: 'Pre-send İYS compliance gateway (API.md)' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' }, gateKey: { type: 'apiKey', in: 'header', name: 'x-iys-gate-key' } } },
      security: [{ bearer: [] }],
    },
    // `/proxy/:upstream/*` is documented as `{path}`; methods OpenAPI 3.0 has no word for (QUERY) are left out
    // streamed CSV routes validate no body schema; the document still names their body and types
    transform: ({ schema, url }) => {
      const s = schema as { consumes?: readonly string[]; body?: unknown } | undefined;
      const doc = s?.consumes && !s.body ? { ...schema, body: { type: 'string', description: 'the file, streamed (one record per line)' } } : schema;
      return { schema: doc, url: url.replace(/\/\*$/, '/:path') };
    },
    transformObject: (doc) => {
      const o = (doc as { openapiObject: { paths?: Record<string, Record<string, unknown>> } }).openapiObject;
      for (const ops of Object.values(o.paths ?? {})) for (const m of Object.keys(ops)) if (!OPENAPI_METHODS.has(m)) delete ops[m];
      return o as never;
    },
  });
  await app.register(errorHandler);
  await app.register(auth, { keys: deps.keys, servedBrands });
  await app.register(metricsPlugin, { metrics, auth: config.metricsAuth });
  await app.register(healthRoutes, routeDeps);
  await app.register(checkRoutes, routeDeps);
  await app.register(rejectionRoutes, routeDeps);
  await app.register(consentRoutes, routeDeps);
  await app.register(importRoutes, routeDeps);
  await app.register(consentWriteRoutes, routeDeps);
  await app.register(outboxRoutes, routeDeps);
  await app.register(pushRoutes, routeDeps);
  await app.register(uploadRoutes, routeDeps);
  // encapsulated on purpose: the proxy replaces the body parsers to forward raw bytes
  await app.register(proxyRoutes, { ...routeDeps, keys: deps.keys });
  await app.register(scrubRoutes, routeDeps);
  await app.register(sendRoutes, routeDeps);
  await app.register(decisionRoutes, routeDeps);
  // encapsulated: its body parser reads bytes and decodes strict UTF-8
  await app.register(inboundRoutes, { ...routeDeps, inbound });
  await app.register(unsubscribeRoutes, routeDeps);
  // the SMTP door (config `smtp`): built here, listening once serve() (or a test) calls listen()
  const smtpRelay = config.smtp
    ? new SmtpRelay({ config: config as GatewayConfig & { smtp: NonNullable<GatewayConfig['smtp']> }, checks, keys: deps.keys, servedBrands, metrics, log: app.log, now: deps.now ?? Date.now })
    : null;
  if (smtpRelay) app.addHook('onClose', async () => { await smtpRelay.close(0); });
  app.decorate('smtpRelay', smtpRelay);
  await app.register(consoleRoutes, { ...routeDeps, ring });
  await app.register(consoleStatic);
  // the FastAGI pre-dial hook (config `agi`): built here, listening once serve() (or a test) calls listen()
  const agi = config.agi
    ? new AgiServer({
      config: config.agi, decide: screeningDecide(checks, config.policy.promotionalInformational), log: app.log,
      metrics: agiMetrics(metrics.registry),
    })
    : null;
  if (agi) app.addHook('onClose', async () => { await agi.close(0); });
  app.decorate('agi', agi);
  app.get('/openapi.json', { schema: { summary: 'This document (OpenAPI 3)', tags: ['operations'], security: [] } }, async () => app.swagger());
  app.decorate('checks', checks);
  app.decorate('decisions', decisions);
  app.decorate('iys', iys);
  app.decorate('requestBounds', requestBounds);
  app.decorate('inbound', inbound);
  app.decorate('decisionRing', ring);
  return app;
}

/** `iysgate_agi_sessions_total{decision, reason}`: AGI pre-dial checks answered (reasons are a bounded set). */
function agiMetrics(registry: Registry) {
  const c = new Counter({ name: 'iysgate_agi_sessions_total', help: 'FastAGI pre-dial checks answered, by decision and reason', labelNames: ['decision', 'reason'], registers: [registry] });
  return { session: (decision: string, reason: string) => c.inc({ decision, reason }) };
}
