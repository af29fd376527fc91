/**
 * Test harness of the proxy: a real stub upstream on 127.0.0.1:0 that records every request byte
 * for byte, and a gateway app holding only the error handler and the proxy routes on a fresh
 * in-memory store (no wiring in app.ts needed). Teardown is registered at creation.
 */
import { Registry } from 'prom-client';
import { contentCheckPolicy } from '../../src/transports/inbound/index.ts';
import { Writable } from 'node:stream';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { CheckService } from '../../src/check/check-service.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { GatewayConfigInput } from '../../src/config/schema.ts';
import type { ConsentType, RecipientType } from '../../src/domain/types.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { KeyRing } from '../../src/plugins/api-keys.ts';
import errorHandler, { frameworkErrors } from '../../src/plugins/error-handler.ts';
import metricsPlugin, { GatewayMetrics } from '../../src/plugins/metrics.ts';
import { proxyRoutes } from '../../src/routes/proxy/index.ts';
import { scrubRoutes } from '../../src/routes/v1/scrub.ts';
import { sendRoutes } from '../../src/routes/v1/send.ts';
import auth from '../../src/plugins/auth.ts';

type Teardown = { teardown(fn: () => unknown): void };

export const KEY = 'proxy-test-key-0123456789';
export const OTHER_BRAND_KEY = 'proxy-other-brand-key-0123';
export const BRAND = 600001;

/** One request as the stub upstream received it. */
export interface Received {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Raw header list, in wire order (names as sent). */
  rawHeaders: string[];
  body: Buffer;
  socket: number;
}

/** A stub upstream. `reply` answers each request (default 200 `{"code":"00","jobid":"J1"}`). */
export async function startStub(t: Teardown, reply?: (req: Received, res: ServerResponse) => void) {
  const requests: Received[] = [];
  const sockets = new Map<unknown, number>();
  let answer = reply ?? ((_r: Received, res: ServerResponse) => { res.setHeader('content-type', 'application/json'); res.end('{"code":"00","jobid":"J1","description":"queued"}'); });
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size + 1);
      const r: Received = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks), socket: sockets.get(req.socket)! };
      requests.push(r);
      answer(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, server, setReply(fn: typeof answer) { answer = fn; } };
}

export interface SeedRow { recipient: string; status: 'ONAY' | 'RET'; type?: ConsentType; recipientType?: RecipientType; brandCode?: number }

/** A gateway with the proxy, send and scrub routes; `listen: true` also gives a real URL. */
export async function makeProxy(t: Teardown, upstreams: unknown[], opts: { listen?: boolean; config?: GatewayConfigInput } = {}) {
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: '/nonexistent-unused', logLevel: 'silent', iys: undefined,
      apiKeys: [
        { name: 'proxy', key: KEY, brands: [BRAND], scopes: ['proxy', 'check'] },
        { name: 'other', key: OTHER_BRAND_KEY, brands: [BRAND + 1], scopes: ['proxy', 'check'] },
      ],
      upstreams: upstreams as GatewayConfigInput['upstreams'],
      ...opts.config,
    },
  });
  const store = new MemoryStore({ dataDir: null });
  await store.open();
  // the commercial content check (issue 14) only where a test sets policy.contentCheck: the other proxy tests read exact headers
  const contentCheck = opts.config?.policy?.contentCheck ? contentCheckPolicy(config, new Registry()) : undefined;
  const checks = new CheckService({ store, policy: { tacirWithoutRecord: config.policy.tacirWithoutRecord, tacirOverBireyselRet: config.policy.tacirOverBireyselRet }, mirrorMaxAgeMs: 0, ...(contentCheck ? { contentCheck } : {}) });
  const keys = new KeyRing({ apiKeys: config.apiKeys, dataDir: '/nonexistent-unused' });
  const logs: string[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
  const app: FastifyInstance = Fastify({ logger: { level: 'warn', stream }, keepAliveTimeout: 1_000, frameworkErrors });
  const deps = { config, store, checks, metrics: new GatewayMetrics({ defaultMetrics: false }), servedBrands: [BRAND, BRAND + 1], keys };
  await app.register(errorHandler);
  await app.register(auth, { keys, servedBrands: deps.servedBrands });
  await app.register(metricsPlugin, { metrics: deps.metrics });
  await app.register(proxyRoutes, deps);
  await app.register(scrubRoutes, deps);
  await app.register(sendRoutes, deps);
  t.teardown(async () => { await app.close(); await store.close(); });
  let url = '';
  if (opts.listen) url = await app.listen({ port: 0, host: '127.0.0.1' });
  const seed = async (rows: SeedRow[]) => {
    await store.apply(rows.map((r, i) => ({
      brandCode: r.brandCode ?? BRAND, recipientType: r.recipientType ?? 'BIREYSEL', type: r.type ?? 'MESAJ', recipient: r.recipient,
      status: r.status, source: 'HS_WEB' as const, consentDate: '2026-01-05 10:00:00', creationDate: '2026-01-05 10:00:05', transactionId: null, retailerAccess: null,
      ...(i < 0 ? {} : {}),
    })));
  };
  return { app, url, store, checks, config, seed, logs };
}
