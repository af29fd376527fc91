import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock } from '../../src/mirror/dir-lock.ts';

// One gateway per data directory, also across containers sharing a volume (review: two gateways
// running as pid 1 in their own pid namespaces both took one outbox).

function lockPath(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'iys-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'LOCK');
}
const age = (path: string, ms: number) => { const then = new Date(Date.now() - ms); utimesSync(path, then, then); };

t.test('another host (container) holding a fresh lock: refused; its stale lock: taken over', async (t) => {
  const path = lockPath(t);
  writeFileSync(path, '1 other-container-7f3a abcdef');
  t.throws(() => acquireLock(path), /in use by process 1 on host other-container-7f3a/);
  t.throws(() => acquireLock(path), { code: 'GW_ERR_DATA_DIR_LOCKED' }, 'a coded boot error, not a bare Error');
  age(path, 11_000);
  const release = acquireLock(path);
  t.match(readFileSync(path, 'utf8'), new RegExp(`^${process.pid} ${hostname()} [0-9a-f]{12}$`));
  release();
  t.notOk(existsSync(path), 'released');
});

t.test('our own pid with another nonce, fresh (pid 1 in two containers with one hostname): refused; stale: taken over', async (t) => {
  const path = lockPath(t);
  writeFileSync(path, `${process.pid} ${hostname()} 000000000000`);
  t.throws(() => acquireLock(path), /same pid/);
  age(path, 11_000);
  acquireLock(path)();
});

t.test('a live node process here: refused; a pid reused by another program or a dead one: taken over', async (t) => {
  const path = lockPath(t);
  const node = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => { node.kill('SIGKILL'); sleeper.kill('SIGKILL'); });
  writeFileSync(path, `${node.pid} ${hostname()} aaaaaaaaaaaa`);
  t.throws(() => acquireLock(path), new RegExp(`in use by process ${node.pid}`));
  writeFileSync(path, `${sleeper.pid} ${hostname()} bbbbbbbbbbbb`);
  acquireLock(path)();
  node.kill('SIGKILL');
  await new Promise((r) => node.once('exit', r));
  writeFileSync(path, String(node.pid)); // a lock file in the older, pid-only format
  acquireLock(path)();
});

t.test('the holder keeps its lock fresh', async (t) => {
  const path = lockPath(t);
  const release = acquireLock(path);
  t.teardown(release);
  age(path, 60_000);
  await new Promise((r) => setTimeout(r, 2_300));
  t.ok(Date.now() - (await import('node:fs')).statSync(path).mtimeMs < 3_000, 'mtime refreshed within one interval');
});
