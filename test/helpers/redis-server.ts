import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * Private redis-server processes for tests (never the shared Redis on 6379). Each server runs
 * on a free port in its own temp dir with `--save "" --appendonly no` unless told otherwise.
 */

const BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';

/**
 * Whether redis-server can run here. Returns a skip reason (string) when it cannot and CI is
 * not set; under `CI=true` a missing binary throws so the run fails.
 */
export function redisAvailable(): true | string {
  const r = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return true;
  const reason = `redis-server not found (${BIN}); install it (apt-get install redis-server) or set REDIS_SERVER_BIN`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${reason}`);
  return reason;
}

/** Like redisAvailable, for redis-server and redis-cli both (the cluster helper needs the CLI). */
export function redisClusterAvailable(): true | string {
  const server = redisAvailable();
  if (server !== true) return server;
  const r = spawnSync(CLI, ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return true;
  const reason = `redis-cli not found (${CLI}); install redis-tools or set REDIS_CLI_BIN`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${reason}`);
  return reason;
}

/** A free TCP port on 127.0.0.1 (bind port 0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  /** Stops the server (SIGTERM, SIGKILL after 2 s) and waits for its exit. */
  stop(): Promise<void>;
  /** Starts again on the same port and dir (after stop). */
  start(): Promise<void>;
  /** kill -9 (no shutdown, no final AOF rewrite) and waits for the exit; `start()` brings it back. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its sockets but answers nothing. */
  pause(): void;
  resume(): void;
  /** Stops and removes the temp dir. */
  cleanup(): Promise<void>;
}

async function waitPing(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {});
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') { c.disconnect(); return; }
    } catch { /* not up yet */ }
    c.disconnect();
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not come up in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/**
 * Starts a private redis-server. `extraArgs` are appended (e.g. `['--cluster-enabled', 'yes']`).
 * @throws when the server does not answer PING within 5 s
 */
export async function startRedis(extraArgs: string[] = [], opts: { port?: number; dir?: string } = {}): Promise<RedisServer> {
  const port = opts.port ?? await freePort();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'iys-redis-'));
  let proc: ChildProcess | null = null;
  const launch = async () => {
    proc = spawn(BIN, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
      '--protected-mode', 'no', '--loglevel', 'warning', ...extraArgs], { stdio: 'ignore' });
    await waitPing(port, 5000);
  };
  await launch();
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async stop() {
      const p = proc;
      proc = null;
      if (!p || p.exitCode !== null) return;
      p.kill('SIGCONT');
      // SIGTERM, then SIGKILL after 2 s (Redis refuses to shut down while writing its first AOF)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => p.kill('SIGKILL'), 2000);
        p.once('exit', () => { clearTimeout(timer); resolve(); });
        p.kill('SIGTERM');
      });
    },
    async kill() {
      const p = proc as ChildProcess | null;
      proc = null;
      if (!p || p.exitCode !== null) return;
      await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill('SIGKILL'); });
    },
    async start() {
      if (proc) return;
      await launch();
    },
    pause() { (proc as ChildProcess | null)?.kill('SIGSTOP'); },
    resume() { (proc as ChildProcess | null)?.kill('SIGCONT'); },
    async cleanup() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

export interface RedisClusterHandle {
  nodes: RedisServer[];
  /** Seed URL list for `createRedisStore({ cluster: true, url })`. */
  url: string;
  cleanup(): Promise<void>;
}

/**
 * Starts three masters with `--cluster-enabled yes` and joins them with
 * `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes`; resolves when every node
 * reports `cluster_state:ok`.
 */
export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(await startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', '2000']));
    }
    const r = spawnSync(CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout}\n${r.stderr}`);
    const deadline = Date.now() + 15_000;
    for (const n of nodes) {
      for (;;) {
        const c = new Redis({ port: n.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
        c.on('error', () => {});
        const info = await c.cluster('INFO').catch(() => '');
        c.disconnect();
        if (String(info).includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok');
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => n.cleanup()));
    throw err;
  }
  return {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    async cleanup() { await Promise.all(nodes.map((n) => n.cleanup())); },
  };
}
