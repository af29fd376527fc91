import { pathToFileURL } from 'node:url';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { loadConfig } from './config/load.ts';
import type { GatewayConfig } from './config/schema.ts';
import { assertIstanbulOffset } from './domain/turkish-time.ts';
import { openStore } from './mirror/open-store.ts';
import { KeyRing } from './plugins/api-keys.ts';

/**
 * Starts the gateway: config (file + env), time-zone self-check (C25), store (embedded unless
 * IYS_GATE_REDIS_URL), API keys (generates and prints one on a first start without any), app,
 * listen; closes gracefully on SIGINT/SIGTERM (store flushed, snapshot written).
 * @returns the listening app and its address
 */
export async function serve(opts: { configFile?: string | undefined; config?: GatewayConfig } = {}): Promise<{ app: FastifyInstance; address: string }> {
  const config = opts.config ?? loadConfig({ file: opts.configFile });
  assertIstanbulOffset();
  const keys = new KeyRing(config);
  const generated = keys.ensureKey();
  const store = await openStore(config);
  const app = await buildApp(config, { store, keys });
  app.addHook('onClose', async () => { await store.close(); });
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
  const address = await app.listen({ port: config.port, host: config.host });
  app.iys.start();
  app.log.info({ store: store.kind, dataDir: config.dataDir }, `iys-gate listening on ${address}`);
  closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info({ signal }, 'closing');
    await app.close();
  });
  return { app, address };
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
