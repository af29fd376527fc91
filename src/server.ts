import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { loadConfig } from './config/load.ts';
import type { GatewayConfig } from './config/schema.ts';
import { assertIstanbulOffset } from './domain/turkish-time.ts';
import type { ConsentStore } from './mirror/consent-store.ts';
import { prewarmImportWorker } from './mirror/import-worker.ts';
import { openStore } from './mirror/open-store.ts';
import { KeyRing } from './plugins/api-keys.ts';
import { SmppFront } from './transports/smpp/front.ts';
import { SmppMetrics } from './transports/smpp/metrics.ts';
import { moMessageId } from './transports/smpp/mobile-originated.ts';
import { handleInboundReply } from './transports/inbound/handle-reply.ts';

/**
 * Starts the gateway: config (file + env), time-zone self-check (C25), store (embedded unless
 * IYS_GATE_REDIS_URL), API keys (generates and prints one on a first start without any), app,
 * listen; closes gracefully on SIGINT/SIGTERM (`shutdown` below: drained, store closed, exit 0).
 * @returns the listening app, its address and `close` (the same shutdown, once)
 */
export async function serve(opts: { configFile?: string | undefined; config?: GatewayConfig } = {}): Promise<{ app: FastifyInstance; address: string; close: () => Promise<void> }> {
  const config = opts.config ?? loadConfig({ file: opts.configFile });
  assertIstanbulOffset();
  const keys = new KeyRing(config);
  const generated = keys.ensureKey();
  const store = await openStore(config);
  const app = await buildApp(config, { store, keys });
  // the decision log's writer replays its open segment now: a damaged log refuses the start
  try { await app.decisions?.ready(); } catch (err) { await app.close(); await store.close(); throw err; }
  if (generated) {
    process.stdout.write(
      `\n  No API key was configured, so one was generated. It is shown only this once;\n` +
      `  only its hash is stored in ${config.dataDir}/api-keys.json.\n\n    IYS_GATE_API_KEY=${generated}\n\n`,
    );
  }
  // which keys are live is said once at boot (README "API keys"); never a key or its hash
  app.log.info({ apiKeys: keys.names }, `API keys live: ${keys.names.join(', ')}`);
  if (keys.ignoredGenerated > 0) {
    app.log.warn(`${keys.ignoredGenerated} generated key(s) in ${config.dataDir}/api-keys.json are no longer valid: keys are configured (apiKeys / IYS_GATE_API_KEY)`);
  }
  if (config.metricsAuth === 'none' && !/^(127\.|::1$|localhost$)/.test(config.host)) {
    app.log.warn(`GET /metrics is open on ${config.host}: set metricsAuth (key or {username, password}) when the port is reachable from outside`);
  }
  const address = await app.listen({ port: config.port, host: config.host });
  if (app.smtpRelay) await app.smtpRelay.listen();
  if (app.agi) await app.agi.listen();
  app.iys.start();
  if (config.importParser === 'worker') prewarmImportWorker();
  // where the mirror lives, said once (a new user looks for the LMDB file; never the Redis URL: it may hold a password)
  const mirror = config.redisUrl ? 'redis' : config.store === 'lmdb' ? join(config.dataDir, 'mirror', 'consents.mdb') : join(config.dataDir, 'mirror');
  app.log.info({ store: store.kind, dataDir: config.dataDir, mirror }, `iys-gate listening on ${address} (mirror: ${mirror})`);
  const smpp = config.smpp ? await startSmpp(app, config) : null;
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= shutdown(app, store, config, smpp));
  closeWithGrace({
    delay: config.shutdownTimeoutMs,
    logger: { error: (msg: unknown) => app.log.error({ err: msg instanceof Error ? msg : undefined }, `shutdown: ${msg instanceof Error ? msg.message : String(msg)}`) },
  }, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info({ signal }, 'closing');
    await close();
  });
  return { app, address, close };
}

/**
 * The shutdown (C45), bounded by `shutdownTimeoutMs` (close-with-grace exits 1 past it): stop
 * accepting and drain connections (request-bounds.ts: idle sockets closed at once, in-flight
 * answers with `Connection: close`, cut after `shutdownDrainMs`), wait for handlers that write,
 * close the app (İYS workers, outbox), then the store (embedded: snapshot written, journal
 * emptied). The last log line `closed cleanly` names the store and the time taken.
 */
async function shutdown(app: FastifyInstance, store: ConsentStore, config: GatewayConfig, smpp: SmppFront | null): Promise<void> {
  const t0 = performance.now();
  if (smpp) await smpp.close(); // ESMEs and upstreams unbound before the store closes
  // the SMTP door first: no new transactions, sessions inside DATA finish within shutdownDrainMs
  await app.smtpRelay?.close(config.shutdownDrainMs);
  await app.agi?.close(config.shutdownDrainMs); // channels still deciding get their answer
  const drained = await app.requestBounds.drain(config.shutdownDrainMs);
  // leave a quarter of the bound for the store's own close (snapshot)
  const settled = await app.requestBounds.settled(config.shutdownTimeoutMs * 0.75 - (performance.now() - t0));
  if (!settled) app.log.warn('shutdown: handlers still running; closing the store anyway');
  await app.close();
  await store.close();
  app.log.info({ store: store.kind, shutdownMs: Math.round(performance.now() - t0), answered: drained.waited, cut: drained.cut }, 'closed cleanly');
}

/**
 * The SMPP front (config `smpp`, README "SMPP"): screens through the app's CheckService, metrics
 * on the app's registry, logs through the app's (masking) logger.
 */
export async function startSmpp(app: FastifyInstance, config: GatewayConfig): Promise<SmppFront> {
  const registry = app.gatewayMetrics?.registry;
  const front = new SmppFront({
    config: config.smpp!, checks: app.checks, policy: config.policy.promotionalInformational, log: app.log,
    // MO texts go to the inbound door's opt-out capture (issue 14): a RET reply becomes a refusal
    onMobileOriginated: async (mo) => {
      if (mo.text === null) return;
      await handleInboundReply(app.inbound.replies, { from: mo.from, to: mo.to, text: mo.text, receivedAt: new Date(mo.receivedAt), messageId: moMessageId(mo), via: mo.systemId ?? mo.via });
    },
    ...(registry ? { metrics: (f: SmppFront) => new SmppMetrics(registry, { sessions: () => f.boundSessions(), upstreams: () => f.pools.values() }) } : {}),
  });
  await front.listen();
  return front;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  // `npm start -- --config FILE` (same as IYS_GATE_CONFIG)
  const i = process.argv.indexOf('--config');
  const configFile = i > 0 ? process.argv[i + 1] : undefined;
  serve({ configFile }).catch((err: Error & { code?: string }) => {
    process.stderr.write(`iys-gate: ${err.code ?? 'error'}: ${err.message}\n`);
    process.exit(1);
  });
}
