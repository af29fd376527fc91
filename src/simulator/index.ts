/**
 * The İYS simulator: a fastify app serving İYS's own paths (`/oauth2/token`, `/sps/…`,
 * `/v2/sps/…`) from in-memory state, plus a simulator-only admin API under `/_sim/`.
 * Held to the official description `../shared/iys/iys-openapi-3.2.0.json` (test/simulator/
 * conformance.test.ts) and to iys-reference.md.
 *
 * Start: `startSimulator({})` listens on IYS_GATE_SIM_PORT (default 8090), host 127.0.0.1, with
 * the demo account {@link DEMO_ACCOUNT} when no account is configured.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { H_CODES } from '../iys/h-codes.ts';
import { sendError, sendErrors, setAccount } from './reply.ts';
import { createSimClock } from './clock.ts';
import { DEMO_ACCOUNT, simulatorOptionsSchema, type SimulatorOptions } from './config.ts';
import { SimContext } from './context.ts';
import { PushDelivery } from './push-delivery.ts';
import { adminRoutes } from './routes-admin.ts';
import { consentRoutes } from './routes-consents.ts';
import { queryRoutes } from './routes-query.ts';
import { reconciliationRoutes } from './routes-reconciliation.ts';
import { pushRoutes } from './routes-push.ts';
import { tokenRoutes } from './routes-token.ts';
import type { SimStateSnapshot } from './state.ts';

export { DEMO_ACCOUNT } from './config.ts';
export type { SimulatorOptions, SimAccount } from './config.ts';
export type { SimContext } from './context.ts';

/** Route options of a simulated İYS operation. */
export interface SimRouteConfig {
  /** operationId in the official description. */
  operationId: string;
  /** Bearer token and iysCode/brandCode permission checks (H351, H353, subscription codes). */
  auth?: boolean;
  /** Hourly per-IP budget this route counts against (H086 / H089). */
  hourly?: 'status' | 'history';
  /** Allowed while the subscription is PAUSED/EXPIRED (only the subscription query). */
  subscriptionQuery?: boolean;
  /** An iysCode no provider holds answers 404 H001 (getBrandsDetails) instead of 403 H353. */
  unknownIysCode404?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    iysSim?: SimRouteConfig;
  }
}

/** One request/response pair the simulator handled (conformance auditing). */
export interface SimExchange {
  operationId: string | null;
  method: string;
  url: string;
  requestContentType: string | undefined;
  requestBody: unknown;
  status: number;
  responseContentType: string | undefined;
  responseBody: unknown;
}

/** Extra hooks that are not configuration. */
export interface SimulatorDeps {
  /** Called for every handled İYS request (not `/_sim/`), after the response is built. */
  onExchange?: (e: SimExchange) => void;
}

/** A built simulator: the fastify app and its engine. */
export interface Simulator {
  app: FastifyInstance;
  ctx: SimContext;
  push: PushDelivery;
  /** Waits for every push delivery in flight. */
  flushPush(): Promise<void>;
}

export { accountOf, sendError, sendErrors } from './reply.ts';

const SNAPSHOT_FILE = 'iys-simulator-state.json';

/**
 * Builds the simulator app without listening.
 * @param opts configuration (validated; unknown keys throw a ZodError)
 * @param deps optional hooks (conformance auditing)
 */
export async function buildSimulator(opts: SimulatorOptions = {}, deps: SimulatorDeps = {}): Promise<Simulator> {
  const config = simulatorOptionsSchema.parse(opts);
  const clock = createSimClock({
    ...(config.clockStartAt ? { startAt: new Date(config.clockStartAt) } : {}),
    frozen: config.clockFrozen,
  });
  const ctx = new SimContext(config, clock, config.accounts && config.accounts.length > 0 ? config.accounts : [DEMO_ACCOUNT]);
  if (config.dataDir) {
    try {
      const snap = JSON.parse(await readFile(join(config.dataDir, SNAPSHOT_FILE), 'utf8')) as SimStateSnapshot;
      ctx.state.restore(snap);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  const push = new PushDelivery(ctx);
  ctx.onIysMovement = (m) => push.deliver(m);

  const app = Fastify({ logger: config.logger, bodyLimit: 16 * 1024 * 1024 });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.setErrorHandler((err, req, reply) => {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('FST_ERR_CTP') || (err as { statusCode?: number }).statusCode === 400) {
      return sendError(reply, 'H014');
    }
    req.log.error(err);
    return sendError(reply, 'H015');
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ errors: [{ code: 'H404', message: 'Kaynak bulunamadı.' }] }));

  const isAdmin = (url: string): boolean => url.startsWith('/_sim');

  app.addHook('onRequest', async (req, reply) => {
    if (isAdmin(req.url)) return;
    const fault = ctx.takeFault(req.method, req.url.split('?')[0] ?? req.url);
    if (fault) {
      if (fault.kind === 'drop') {
        req.raw.socket.destroy();
        return reply.hijack();
      }
      if (fault.kind === 'delay') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
      if (fault.kind === 'status') {
        const status = fault.status ?? 500;
        const code = fault.code ?? (status === 429 ? 'H124' : status === 503 ? 'H192' : 'H015');
        return reply.code(status).send({ errors: [{ code, message: (H_CODES as Record<string, { message: string }>)[code]?.message ?? 'Simüle edilen hata.' }] });
      }
    }
    if (!ctx.perSecondAllowed(req.ip)) return sendError(reply, 'H124');
  });

  app.addHook('preHandler', async (req, reply) => {
    const cfg = req.routeOptions.config.iysSim;
    if (!cfg?.auth) return;
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    const a = m ? ctx.authenticate(m[1]!) : undefined;
    if (!a) return sendError(reply, 'H351');
    const params = req.params as Record<string, string | undefined>;
    if (params.iysCode !== undefined) {
      if (!/^\d+$/.test(params.iysCode)) return sendError(reply, 'H190', { location: ['iysCode'], value: params.iysCode });
      if (cfg.unknownIysCode404 && !ctx.accountByIysCode(Number(params.iysCode))) {
        return sendErrors(reply, [{ code: 'H001', message: `Hizmet Sağlayıcı:${params.iysCode} bulunamadı.` }], 404);
      }
      if (Number(params.iysCode) !== a.iysCode) return sendErrors(reply, [{ code: 'H353', message: 'iysCode, kullanıcı izinleriyle eşleştiriliemiyor' }]);
    }
    if (params.brandCode !== undefined) {
      if (!/^\d+$/.test(params.brandCode)) return sendError(reply, 'H191', { location: ['brandCode'], value: params.brandCode });
      if (!a.brands.some((b) => b.brandCode === Number(params.brandCode))) {
        return sendErrors(reply, [{ code: 'H353', message: 'brandCode, kullanıcı izinleriyle eşleştiriliemiyor' }]);
      }
    }
    const sub = a.subscription;
    if (!cfg.subscriptionQuery) {
      if (sub.status === 'NONE') return sendErrors(reply, [{ code: 'H524', message: `${a.iysCode} için ait abonelik kaydı bulunamadı.` }]);
      if (sub.status === 'CLOSED') return sendError(reply, 'H521');
      if (sub.status === 'PAUSED' || sub.status === 'EXPIRED') return sendError(reply, 'H520');
    }
    if (!sub.apiIncluded) return sendError(reply, 'H586');
    if (cfg.hourly && !ctx.hourlyAllowed(cfg.hourly, req.ip)) return sendError(reply, cfg.hourly === 'status' ? 'H086' : 'H089');
    setAccount(req, a);
    ctx.processDueBatches();
  });

  app.addHook('onSend', async (req, reply, payload) => {
    // İYS's clock, as its answers' Date header (the gateway measures clock skew with it)
    reply.header('date', clock.now().toUTCString());
    if (isAdmin(req.url)) return payload;
    const operationId = req.routeOptions.config?.iysSim?.operationId ?? null;
    ctx.count(operationId ?? 'unknown', reply.statusCode);
    if (deps.onExchange) {
      const rct = String(reply.getHeader('content-type') ?? '');
      let body: unknown = payload;
      if (typeof payload === 'string' && rct.includes('json')) {
        try { body = JSON.parse(payload); } catch { body = payload; }
      }
      deps.onExchange({
        operationId, method: req.method, url: req.url, requestContentType: req.headers['content-type'],
        requestBody: req.body, status: reply.statusCode, responseContentType: rct || undefined, responseBody: body,
      });
    }
    return payload;
  });

  await app.register(tokenRoutes(ctx));
  await app.register(consentRoutes(ctx));
  await app.register(queryRoutes(ctx));
  await app.register(reconciliationRoutes(ctx));
  await app.register(pushRoutes(ctx, push));
  await app.register(adminRoutes(ctx, push));

  app.addHook('onClose', async () => {
    await push.flush();
    push.close();
    if (config.dataDir) {
      await mkdir(config.dataDir, { recursive: true });
      await writeFile(join(config.dataDir, SNAPSHOT_FILE), JSON.stringify(ctx.state.snapshot()));
    }
  });

  return { app, ctx, push, flushPush: () => push.flush() };
}

/**
 * Builds and starts the simulator.
 * @param opts as {@link buildSimulator}; `port` defaults to env IYS_GATE_SIM_PORT or 8090,
 *   `host` to 127.0.0.1
 * @returns the simulator and its base URL (`http://host:port`)
 */
export async function startSimulator(opts: SimulatorOptions = {}, deps: SimulatorDeps = {}): Promise<Simulator & { url: string }> {
  const sim = await buildSimulator(opts, deps);
  const envPort = process.env.IYS_GATE_SIM_PORT;
  const port = opts.port ?? (envPort !== undefined && envPort !== '' ? Number(envPort) : 8090);
  const host = opts.host ?? '127.0.0.1';
  await sim.app.listen({ port, host });
  const addr = sim.app.server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  return { ...sim, url: `http://${host}:${actualPort}` };
}

/**
 * Startup text for `iys-gate simulator`: where it listens, the demo account when it is the one
 * in use, and the admin API. No secrets beyond the documented demo password.
 */
export function simulatorBanner(sim: Simulator & { url: string }): string {
  const accounts = [...sim.ctx.accounts.values()];
  const demo = accounts.length === 1 && accounts[0]!.username === DEMO_ACCOUNT.username;
  const lines = [
    `İYS simulator listening on ${sim.url} (İYS paths /oauth2/token, /sps/…, /v2/sps/…; admin API under /_sim/)`,
    demo
      ? `demo account: username ${DEMO_ACCOUNT.username}, password ${DEMO_ACCOUNT.password}, iysCode ${DEMO_ACCOUNT.iysCode}, brands ${DEMO_ACCOUNT.brands.map((b) => b.brandCode).join(', ')}`
      : `accounts: ${accounts.map((a) => `${a.username} (iysCode ${a.iysCode})`).join(', ')}`,
    `batch results after ${sim.ctx.config.batchDelayMs / 1000} s of simulated time; move the clock with POST /_sim/clock {"advanceMs": n}`,
  ];
  return lines.join('\n');
}
