import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/**
 * One process per directory (the embedded mirror's, the outbox's): the file at `path` holds the
 * owner's pid. A lock whose process is gone (crash, kill -9) is taken over. Returns the release
 * function.
 * @throws Error when a live process holds the directory (e.g. `iys-gate import` while serving).
 */
export function acquireLock(path: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => { try { unlinkSync(path); } catch { /* already gone */ } };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8'));
      let alive = false;
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
        try { process.kill(pid, 0); alive = true; } catch (e) { alive = (e as NodeJS.ErrnoException).code === 'EPERM'; }
      }
      if (alive) throw new Error(`data directory is in use by process ${pid} (${path}); stop it first`);
      unlinkSync(path);
    }
  }
  throw new Error(`cannot lock ${path}`);
}

