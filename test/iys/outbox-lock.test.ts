import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../src/iys/outbox.ts';

// Two gateways on one data directory (a Redis fleet sharing a volume) would interleave one outbox
// log: the second one must refuse to start (newcomer trial: it started without complaint).

t.test('the outbox directory is held by one live process; a dead holder is taken over', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iys-outbox-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const outboxDir = join(dir, 'outbox');
  mkdirSync(outboxDir, { recursive: true });
  // a live process that is not us holds the lock
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  t.teardown(() => { holder.kill('SIGKILL'); });
  writeFileSync(join(outboxDir, 'LOCK'), String(holder.pid));
  const second = new Outbox({ dir: outboxDir });
  await t.rejects(second.open(), /in use by process \d+/, 'a second gateway on the same data directory does not start');
  // the holder dies (crash): its lock is taken over, and released on close
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('exit', r));
  const third = new Outbox({ dir: outboxDir });
  await third.open();
  t.ok(existsSync(join(outboxDir, 'LOCK')), 'held while open');
  await third.close();
  t.notOk(existsSync(join(outboxDir, 'LOCK')), 'released on close');
});
