import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { gatewayError } from '../errors.ts';

/** The holder refreshes its lock file's mtime this often (ms). */
const REFRESH_MS = 2_000;
/** A lock file not refreshed for this long (ms) is stale whoever wrote it. */
const STALE_MS = 10_000;
/** Nonces of the locks this process wrote (one it left behind, e.g. a store not closed, is its own). */
const OURS = new Set<string>();

/**
 * One process per directory (the embedded mirror's, the outbox's). The file at `path` holds
 * `<pid> <hostname> <nonce>` and its holder refreshes its mtime every 2 s. On start, a lock is
 * held, and this process refuses to go on, when:
 * - it was written on another host (another container sharing the volume: pids mean nothing
 *   there) and refreshed within the last 10 s;
 * - it was written here by another live node process (`kill(pid, 0)`, and `/proc/<pid>/cmdline`
 *   naming node where /proc is readable: a pid reused by an unrelated program does not count);
 * - it names this very pid but was not written by this process (two containers both running as
 *   pid 1 with one hostname) and was refreshed within the last 10 s.
 * Anything else (crash, `kill -9`, a file from before this format) is taken over.
 * @returns the release function (stops the refresh, removes the file)
 * @throws GW_ERR_DATA_DIR_LOCKED naming the holder and the lock file when the directory is in use
 *   (e.g. `iys-gate import` while serving); the message keeps the words "in use by <holder>"
 */
export function acquireLock(path: string): () => void {
  const nonce = randomBytes(6).toString('hex');
  const me = `${process.pid} ${hostname()} ${nonce}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, me);
      closeSync(fd);
      OURS.add(nonce);
      const timer = setInterval(() => {
        try { const now = new Date(); utimesSync(path, now, now); } catch { /* removed under us: nothing to refresh */ }
      }, REFRESH_MS);
      timer.unref();
      return () => {
        clearInterval(timer);
        OURS.delete(nonce);
        try { if (readFileSync(path, 'utf8') === me) unlinkSync(path); } catch { /* already gone */ }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = heldBy(path);
      if (holder !== null) throw gatewayError('GW_ERR_DATA_DIR_LOCKED', [holder, path]);
      try { unlinkSync(path); } catch { /* taken by another starter meanwhile: retry decides */ }
    }
  }
  throw new Error(`cannot lock ${path}`);
}

/** Who holds the lock at `path` ("process N" / "process N on host H"), or null when it is stale. */
function heldBy(path: string): string | null {
  let text: string;
  let ageMs: number;
  try {
    text = readFileSync(path, 'utf8').trim();
    ageMs = Date.now() - statSync(path).mtimeMs;
  } catch {
    return null; // vanished meanwhile
  }
  const [pidText, host, nonce] = text.split(' ');
  const pid = Number(pidText);
  const fresh = ageMs < STALE_MS;
  if (host !== undefined && host !== hostname()) return fresh ? `process ${pid} on host ${host}` : null;
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (pid === process.pid) {
    const foreign = host !== undefined && nonce !== undefined && !OURS.has(nonce);
    return fresh && foreign ? `process ${pid} (same pid: another container?)` : null;
  }
  let alive = false;
  try { process.kill(pid, 0); alive = true; } catch (e) { alive = (e as NodeJS.ErrnoException).code === 'EPERM'; }
  if (!alive) return null;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!/node/.test(cmd)) return null; // the pid now belongs to another program
  } catch { /* no /proc: trust kill(0) */ }
  return `process ${pid}`;
}
