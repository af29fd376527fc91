import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { freePort, killHard, untrackedNode } from './process.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * Bundles src/server.ts (and its import worker) once (esbuild) into `.tap/gw-bundle-<pid>/server.js`, so that tests which
 * start many gateway processes (crash loops) pay node's start, not tsx's per-file transform and
 * hundreds of module resolutions at every start. The same source runs; native packages (lmdb)
 * stay external. The bundle is CommonJS (the directory has its own package.json) so that
 * `standby.js` beside it (see GatewayLauncher) can load it with a V8 code cache
 * (`server.js.v8cache`, what node 22's module compile cache does; node 20 has none for ESM).
 * `node server.js` runs the gateway directly. Returns the bundle's directory, its server file
 * and a cleanup.
 */
export async function bundleGateway(): Promise<{ dir: string; file: string; remove: () => void }> {
  const dir = join(ROOT, '.tap', `gw-bundle-${process.pid}`);
  await buildBundle(dir);
  return { dir, file: join(dir, 'server.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What the bundle is made of: a change to any of these makes a new shared bundle. */
const BUNDLE_INPUTS = ['src', 'package-lock.json', 'test/helpers/gateway-bundle.ts'];

/**
 * The gateway bundle (as bundleGateway) shared by every test file of a run and by later runs
 * while the sources are the same: `.tap/gw-bundle/<key>/server.js`, where key is a SHA-256 of
 * node's version and every file under src/, package-lock.json and this helper (so an edited
 * source is never run from a stale bundle). Built at most once per key: by tap's `before` script
 * (test/helpers/build-gateway-bundle.ts) for `npm test`, else by the first test file that asks;
 * a bundle is built in a directory of its own and renamed into place, so a concurrent test file
 * sees either no bundle (and builds one too; the second rename loses and is discarded) or a
 * complete one. The directory is three levels below the project root, as src/routes/console/ is
 * under src/, so that the console's files (CONSOLE_ROOT, `../../../console`) resolve the same.
 * Bundles of other keys older than an hour are removed. Memoized per process.
 */
export function sharedBundle(): Promise<{ dir: string; file: string }> {
  return (shared ??= buildShared());
}
let shared: Promise<{ dir: string; file: string }> | undefined;

async function buildShared(): Promise<{ dir: string; file: string }> {
  const base = join(ROOT, '.tap', 'gw-bundle');
  const dir = join(base, bundleKey());
  const file = join(dir, 'server.js');
  if (existsSync(file)) return { dir, file };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await buildBundle(tmp);
  try {
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(file)) throw err; // not another test file's bundle of the same key
  }
  for (const name of readdirSync(base)) {
    const other = join(base, name);
    if (other !== dir && Date.now() - statSync(other).mtimeMs > 3_600_000) rmSync(other, { recursive: true, force: true });
  }
  return { dir, file };
}

function bundleKey(): string {
  const hash = createHash('sha256').update(process.version);
  const add = (path: string): void => {
    if (statSync(path).isDirectory()) { for (const name of readdirSync(path).sort()) add(join(path, name)); return; }
    hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
  };
  for (const input of BUNDLE_INPUTS) add(join(ROOT, input));
  return hash.digest('hex').slice(0, 16);
}

async function buildBundle(dir: string): Promise<void> {
  const { build } = await import('esbuild');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}\n');
  // the workers are their own entries: the server starts them as ./<name>.js beside itself
  await build({
    entryPoints: {
      server: join(ROOT, 'src/server.ts'), 'import-worker': join(ROOT, 'src/mirror/import-worker.ts'),
      // the decision log's writer thread, started as ./writer-worker.js beside the server
      'writer-worker': join(ROOT, 'src/check/decision-log/writer-worker.ts'),
    },
    bundle: true, platform: 'node', format: 'cjs', outdir: dir, logLevel: 'error',
    external: ['lmdb', '@lmdb/*', 'msgpackr-extract', '@msgpackr-extract/*'],
    // import.meta.url of each source file becomes its bundle file's URL (isMain, ./import-worker.js)
    define: { 'import.meta.url': '__iysImportMetaUrl' },
    banner: { js: "var __iysImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  // files the sources read beside themselves (`new URL('./lua/…', import.meta.url)`): beside the bundle too
  cpSync(join(ROOT, 'src/mirror/lua'), join(dir, 'lua'), { recursive: true });
  writeFileSync(join(dir, 'standby.js'), STANDBY);
}

/**
 * A gateway process that has loaded the bundle (server.js evaluated, with the V8 code cache if
 * one was written; nothing of serve() run: no config read, no store, no socket) and reads lines
 * on stdin: `serve` runs the same serve() as `node server.js` (src/server.ts), with the same
 * failure exit; `cache` writes server.js.v8cache (atomically) with what this process compiled
 * so far (a warmed-up gateway: its start and first requests) and answers `cache written`.
 */
const STANDBY = `'use strict';
const vm = require('node:vm'), fs = require('node:fs'), path = require('node:path'), Module = require('node:module');
const file = path.join(__dirname, 'server.js'), cacheFile = file + '.v8cache';
const cachedData = fs.existsSync(cacheFile) ? fs.readFileSync(cacheFile) : undefined;
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
const mod = new Module(file, module);
mod.filename = file;
mod.paths = Module._nodeModulePaths(__dirname);
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, __dirname);
let serving = false;
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'serve' && !serving) {
    serving = true;
    mod.exports.serve({}).catch((err) => { process.stderr.write('iys-gate: ' + (err.code ?? 'error') + ': ' + err.message + '\\n'); process.exit(1); });
  } else if (line === 'cache') {
    fs.writeFileSync(cacheFile + '.tmp', script.createCachedData());
    fs.renameSync(cacheFile + '.tmp', cacheFile);
    process.stdout.write('cache written\\n');
  }
});
process.stdout.write('standby' + (cachedData === undefined ? '' : script.cachedDataRejected ? ' (code cache rejected)' : ' (code cache)') + '\\n');
`;

type Standby = { child: ChildProcess; port: number; out: { text: string }; ready: Promise<void> };
type Started = { child: ChildProcess; base: string; output: () => string };

/** Starts `node <bundle>`; resolves once it logged that it listens (or rejects with its output). */
export async function startBundled(file: string, env: Record<string, string>, timeoutMs = 60_000): Promise<Started> {
  const port = await freePort();
  const child = spawn(...untrackedNode([file]), {
    cwd: ROOT, env: { ...process.env, IYS_GATE_PORT: String(port), IYS_GATE_HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return listening(child, `http://127.0.0.1:${port}`, timeoutMs, () => undefined);
}

/**
 * Starts gateway processes one after the other (crash loops) with the module loading of the next
 * one done ahead: one process stays in standby (bundle loaded, serve() not called, data dir not
 * touched). `start()` tells the standby to serve — it then reads the config, opens the store from
 * disk (recovery: replay, torn-tail truncation), builds the app and listens, exactly as a fresh
 * `node server.js` — and spawns the next standby. The caller must have killed the previous
 * gateway before `start()`: only one process ever opens the data dir.
 */
export class GatewayLauncher {
  readonly #dir: string;
  readonly #env: Record<string, string>;
  #next: Promise<Standby> | null = null;
  /** Time start() waited for a standby to finish loading (ms, summed): 0 when loading kept ahead. */
  waitedMs = 0;
  /** Starts whose process loaded the code cache (not rejected). */
  cached = 0;

  constructor(bundleDir: string, env: Record<string, string>) {
    this.#dir = bundleDir;
    this.#env = env;
  }

  async #spawn(extraEnv: Record<string, string> = {}): Promise<Standby> {
    const port = await freePort();
    const child = spawn(...untrackedNode([join(this.#dir, 'standby.js')]), {
      cwd: ROOT, env: { ...process.env, IYS_GATE_PORT: String(port), IYS_GATE_HOST: '127.0.0.1', ...this.#env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out = { text: '' };
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => { out.text += d; if (/standby.*\n/.test(out.text)) resolve(); });
      child.stderr!.on('data', (d: Buffer) => { out.text += d; });
      child.once('exit', () => reject(new Error('standby exited: ' + out.text.slice(-2000))));
    });
    ready.catch(() => undefined); // a standby killed by close() is not an error
    return { child, port, out, ready };
  }

  /**
   * Writes the code cache the standbys load: a gateway on `dataDir` (not the one of the rounds)
   * serves, `exercise` sends it the requests the rounds will send, the process writes what it
   * compiled, and is killed. Call before the first start().
   */
  async warm(dataDir: string, exercise: (base: string) => Promise<void>, timeoutMs = 60_000): Promise<void> {
    const standby = await this.#spawn({ IYS_GATE_DATA_DIR: dataDir });
    await standby.ready;
    standby.child.stdin!.write('serve\n');
    const gw = await listening(standby.child, `http://127.0.0.1:${standby.port}`, timeoutMs, () => standby.out.text);
    try {
      await exercise(gw.base);
      // the spawn's own listener (registered first) has appended the chunk when this one runs
      const written = new Promise<void>((resolve, reject) => {
        standby.child.stdout!.on('data', () => { if (standby.out.text.includes('cache written\n')) resolve(); });
        standby.child.once('exit', () => reject(new Error('gateway exited before writing the code cache: ' + standby.out.text.slice(-2000))));
      });
      standby.child.stdin!.end('cache\n');
      await written;
    } finally {
      await killHard(standby.child);
    }
  }

  /** Serves from the standby (spawning one if none), resolves once it listens; a new standby is spawned. */
  async start(timeoutMs = 60_000): Promise<Started> {
    const { child, port, out, ready } = await (this.#next ?? this.#spawn());
    this.#next = null;
    const t0 = performance.now();
    await ready;
    this.waitedMs += performance.now() - t0;
    if (/standby \(code cache\)/.test(out.text)) this.cached++;
    child.stdin!.end('serve\n');
    const started = await listening(child, `http://127.0.0.1:${port}`, timeoutMs, () => out.text);
    this.#next = this.#spawn();
    return started;
  }

  /** Kills the standby, if any. */
  async close(): Promise<void> {
    const next = this.#next;
    this.#next = null;
    if (next) await killHard((await next).child);
  }
}

function listening(child: ChildProcess, base: string, timeoutMs: number, earlier: () => string | undefined): Promise<Started> {
  let out = earlier() ?? '';
  return new Promise<Started>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('gateway did not start in time: ' + out.slice(-2000))); }, timeoutMs);
    const check = () => { if (out.includes('iys-gate listening on')) { clearTimeout(timer); resolve({ child, base, output: () => out }); return true; } return false; };
    child.stdout!.on('data', (d: Buffer) => { out += d; check(); });
    child.stderr!.on('data', (d: Buffer) => { out += d; });
    child.once('exit', () => { clearTimeout(timer); reject(new Error('gateway exited at start: ' + out.slice(-2000))); });
    check();
  });
}
