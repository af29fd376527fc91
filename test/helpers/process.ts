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
 * How a test starts a gateway process: `bundle` runs `node server.js` of the shared esbuild bundle
 * of src/ (sharedBundle in gateway-bundle.ts: the same source, ~1 s of CPU per start instead of
 * ~4 s for tsx's transform of every module), `source` runs what `npm start` runs
 * (`node --import tsx src/server.ts`, README "Quick start"), kept by the tests of a first start.
 */
export type GatewayEntry = 'bundle' | 'source';

/** Spawns a gateway process (`entry`, default the shared bundle) with env on a free port; does not wait for it. */
export async function spawnGateway(env: Record<string, string>, entry: GatewayEntry = 'bundle'): Promise<{ child: ChildProcess; base: string; output: () => string }> {
  const port = await freePort();
  const args = entry === 'source' ? ['--import', 'tsx', 'src/server.ts'] : [(await sharedBundle()).file];
  const child = spawn(process.execPath, args, {
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
