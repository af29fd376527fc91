import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { sharedBundle } from './gateway-bundle.ts';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
  });
}

/**
 * The command and arguments that run `node <args>` as a child of a test without tap's process
 * tracker: tap injects `--import @tapjs/processinfo` into every child's NODE_OPTIONS (its
 * child_process wrapper re-adds it to any env given), which doubles the CPU of a bundled gateway
 * start (~1.2 s more: a loader-hooks thread and a record per process) and only serves coverage,
 * which package.json disables. With coverage disabled (TAP_DISABLE_COVERAGE=1) the child runs
 * through `env NODE_OPTIONS=<the same without it> node <args>` (env execs node: the child's
 * pid, signals and exit are node's); otherwise, and outside tap, plain `node <args>`.
 */
export function untrackedNode(args: string[]): [string, string[]] {
  const options = process.env.NODE_OPTIONS ?? '';
  if (process.env.TAP_DISABLE_COVERAGE !== '1' || process.platform === 'win32' || !options.includes('@tapjs/processinfo')) return [process.execPath, args];
  const kept = options.split(/\s+/).filter((o) => o !== '' && !o.includes('@tapjs/processinfo')).join(' ');
  return ['env', [`NODE_OPTIONS=${kept}`, process.execPath, ...args]];
}

/**
 * How a test starts a gateway process: `bundle` runs `node server.js` of the shared esbuild bundle
 * of src/ (sharedBundle in gateway-bundle.ts: the same source, ~1 s of CPU per start instead of
 * ~4 s for tsx's transform of every module), `source` runs what `npm start` runs
 * (`node --import tsx src/server.ts`, README "Quick start"), kept by the tests of a first start.
 */
export type GatewayEntry = 'bundle' | 'source';

/** Spawns a gateway process (`entry`, default the shared bundle) with env on a free port; does not wait for it. */
export async function spawnGateway(env: Record<string, string>, entry: GatewayEntry = 'bundle'): Promise<{ child: ChildProcess; base: string; output: () => string }> {
  const port = await freePort();
  // the source entry stays exactly what `npm start` runs under tap
  const [command, args] = entry === 'source' ? [process.execPath, ['--import', 'tsx', 'src/server.ts']] : untrackedNode([(await sharedBundle()).file]);
  const child = spawn(command, args, {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, IYS_GATE_PORT: String(port), IYS_GATE_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  return { child, base: `http://127.0.0.1:${port}`, output: () => out };
}

/** Starts a gateway process (as spawnGateway) with env; resolves once /healthz answers. */
export async function startGatewayProcess(env: Record<string, string>, entry: GatewayEntry = 'bundle'): Promise<{ child: ChildProcess; base: string; output: () => string }> {
  const { child, base, output } = await spawnGateway(env, entry);
  for (let i = 0; i < 200; i++) {
    try { const r = await fetch(base + '/healthz'); if (r.ok) return { child, base, output }; } catch { /* not yet */ }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('gateway did not start: ' + output().slice(-1000));
}

/** Sends SIGKILL and waits for the exit. */
export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
