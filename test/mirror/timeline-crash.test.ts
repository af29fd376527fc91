/**
 * Issue 15: the movement history is written in the same unit as the mirror (LMDB transaction,
 * memory-store journal record). A writer killed with kill -9 in the middle of a stream of applies
 * never leaves a record change without its history entry, and every acknowledged apply has both.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbStore } from '../../src/mirror/lmdb-store.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import type { ConsentStore } from '../../src/mirror/consent-store.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const BRAND = 700_301;
const KEYS = 40;
const key = (i: number) => ({ brandCode: BRAND, recipientType: 'BIREYSEL' as const, type: 'MESAJ' as const, recipient: `+9053212${String(50000 + i)}` });

// The writer: round r applies, to every key, a movement newer than the last (status alternating),
// 8 keys per apply call, and prints "ack r k" once each call resolved (durable).
const WRITER = (kind: string, dir: string) => `
const { ${kind === 'lmdb' ? 'LmdbStore: S' : 'MemoryStore: S'} } = await import(${JSON.stringify(join(ROOT, kind === 'lmdb' ? 'src/mirror/lmdb-store.ts' : 'src/mirror/memory-store.ts'))});
const s = new S({ dataDir: ${JSON.stringify(dir)} });
await s.open();
process.stdout.write('open\\n');
for (let r = 0; ; r++) {
  for (let k = 0; k < ${KEYS}; k += 8) {
    const ms = [];
    for (let j = k; j < k + 8; j++) {
      const sec = String(r % 60).padStart(2, '0'), min = String(Math.floor(r / 60) % 60).padStart(2, '0'), hour = String(Math.floor(r / 3600)).padStart(2, '0');
      ms.push({ brandCode: ${BRAND}, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+9053212' + String(50000 + j), status: r % 2 ? 'RET' : 'ONAY',
        source: 'HS_WEB', consentDate: '2026-03-02 ' + hour + ':' + min + ':' + sec, creationDate: '2026-03-02 ' + hour + ':' + min + ':' + sec, transactionId: 'r' + r + 'k' + j });
    }
    await s.apply(ms);
    process.stdout.write('ack ' + r + ' ' + k + '\\n');
  }
}
`;

async function crashOnce(t: Test, kind: 'lmdb' | 'memory', killAfterAcks: number) {
  const dir = mkdtempSync(join(tmpdir(), `iys-tl-crash-${kind}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER(kind, dir)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errText = '';
  child.stderr!.on('data', (d) => { errText += d; });
  const acked = new Map<number, number>(); // key → last acknowledged round
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`writer too slow: ${out.slice(-200)} ${errText.slice(-500)}`)); }, 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const acks = out.split('\n').filter((l) => l.startsWith('ack '));
      if (acks.length >= killAfterAcks && child.exitCode === null && !child.killed) {
        child.kill('SIGKILL'); // mid-stream: the next apply is usually in flight
      }
    });
    child.once('exit', () => { clearTimeout(timer); resolve(); });
  });
  for (const l of out.split('\n')) {
    const m = /^ack (\d+) (\d+)$/.exec(l);
    if (m) for (let j = Number(m[2]); j < Number(m[2]) + 8; j++) acked.set(j, Number(m[1]));
  }
  t.ok(acked.size > 0, `${kind}: the writer acknowledged applies before the kill`);
  const store: ConsentStore = kind === 'lmdb' ? new LmdbStore({ dataDir: dir }) : new MemoryStore({ dataDir: dir });
  await store.open();
  let missing = 0;
  let lostAck = 0;
  let checked = 0;
  for (let j = 0; j < KEYS; j++) {
    const rec = await store.get(key(j));
    const tl = await store.timeline(key(j));
    const last = acked.get(j);
    if (last !== undefined && !tl.some((e) => e.movement.transactionId === `r${last}k${j}`)) lostAck++;
    if (rec === null) { if (tl.length > 0) missing++; continue; }
    checked++;
    const applied = tl.filter((e) => e.outcome === 'applied');
    // the current record is the last applied entry; every round up to it has its entry
    if (applied.at(-1)?.movement.transactionId !== rec.transactionId) missing++;
    const round = Number(/^r(\d+)k/.exec(rec.transactionId ?? '')?.[1]);
    if (applied.length !== round + 1) missing++;
  }
  t.equal(lostAck, 0, `${kind}: every acknowledged movement has its history entry after kill -9`);
  t.equal(missing, 0, `${kind}: no record change without its history entry (${checked} keys with a record)`);
  await store.close();
}

for (const kind of ['lmdb', 'memory'] as const) {
  t.test(`kill -9 mid-stream (${kind}): mirror and movement history agree`, async (t) => {
    for (const acks of [9, 41]) await crashOnce(t, kind, acks);
  });
}
