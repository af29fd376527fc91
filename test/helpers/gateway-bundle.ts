import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './process.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * Bundles src/server.ts (and its import worker) once (esbuild) into `.tap/gw-bundle-<pid>/server.js`, so that tests which
 * start many gateway processes (crash loops) pay node's start, not tsx's per-file transform and
 * hundreds of module resolutions at every start (measured here: ~1.1 s → ~0.25 s of imports).
 * The same source runs; native packages (lmdb) stay external. Returns the file and a cleanup.
 */
export async function bundleGateway(): Promise<{ file: string; remove: () => void }> {
  const { build } = await import('esbuild');
  const dir = join(ROOT, '.tap', `gw-bundle-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'server.js');
  // the import worker is its own entry: the server starts it as ./import-worker.js beside itself
  await build({
    entryPoints: { server: join(ROOT, 'src/server.ts'), 'import-worker': join(ROOT, 'src/mirror/import-worker.ts') },
    bundle: true, platform: 'node', format: 'esm', outdir: dir, logLevel: 'error',
    external: ['lmdb', '@lmdb/*', 'msgpackr-extract', '@msgpackr-extract/*'],
    banner: { js: "import { createRequire as __iysCreateRequire } from 'node:module'; const require = __iysCreateRequire(import.meta.url);" },
  });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts `node <bundle>`; resolves once it logged that it listens (or rejects with its output). */
export async function startBundled(file: string, env: Record<string, string>, timeoutMs = 60_000): Promise<{ child: ChildProcess; base: string; output: () => string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [file], {
    cwd: ROOT, env: { ...process.env, IYS_GATE_PORT: String(port), IYS_GATE_HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const base = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('gateway did not start in time: ' + out.slice(-2000))); }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('iys-gate listening on')) { clearTimeout(timer); resolve(); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => { out += d; });
    child.once('exit', () => { clearTimeout(timer); reject(new Error('gateway exited at start: ' + out.slice(-2000))); });
  });
  return { child, base, output: () => out };
}
