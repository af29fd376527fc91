// Issue 12 (found last session): a damaged LMDB data file (mirror/consents.mdb: a flipped byte in
// a meta page, a truncated file, random garbage) killed the gateway at start with exit 139
// (SIGSEGV; 135, SIGBUS, for a truncated one) inside lmdb. Now a start checks the meta pages and
// the roots they name before lmdb maps the file (src/mirror/lmdb-check.ts) and refuses with
// GW_ERR_STORE_CORRUPT naming the file. Real files, written by the store, damaged here; each
// damaged copy is opened in this process (a miss would crash the test run) and one through a real
// gateway process (exit 1 with the coded error, not a signal).
import t from 'tap';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LMDB_FILE, LmdbStore } from '../../src/mirror/lmdb-store.ts';
import type { Movement } from '../../src/domain/types.ts';
import { spawnGateway } from '../helpers/process.ts';

const BRAND = 700001;
const root = mkdtempSync(join(tmpdir(), 'iysgate-lmdb-corrupt-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

const movement = (i: number, status: 'ONAY' | 'RET'): Movement => ({
  brandCode: BRAND, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: `+90532${String(1_000_000 + i)}`, status, source: 'HS_WEB',
  consentDate: `2026-11-20 10:${String(i % 60).padStart(2, '0')}:00`, creationDate: null, transactionId: null,
});

/** A real data file: 3,000 records in 30 transactions, 120 more movements in 40 small ones (history, meta). */
async function writeGood(dir: string): Promise<void> {
  const s = new LmdbStore({ dataDir: dir });
  await s.open();
  for (let b = 0; b < 30; b++) await s.apply(Array.from({ length: 100 }, (_, k) => movement(b * 100 + k, 'ONAY')));
  for (let b = 0; b < 40; b++) { await s.apply([movement(b, 'RET'), movement(b + 1000, 'RET'), movement(b + 2000, 'RET')]); await s.setMeta(`cursor-${b % 3}`, String(b)); }
  await s.close();
}

const good = join(root, 'good');
/** Page size, and the newest meta page's index and fields (offsets of MDB_meta, lmdb-check.ts). */
function layout(file: string) {
  const b = readFileSync(file);
  const psize = b.readUInt32LE(0x30);
  const txn = (i: number) => b.readBigUInt64LE(i * psize + 0x98);
  const newest = txn(0) >= txn(1) ? 0 : 1;
  const at = newest * psize;
  return { psize, newest, at, mainRoot: b.readBigUInt64LE(at + 0x88), lastPage: b.readBigUInt64LE(at + 0x90), size: b.length };
}

function damaged(name: string, damage: (file: string) => void): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(good, LMDB_FILE), join(dir, LMDB_FILE));
  damage(join(dir, LMDB_FILE));
  return dir;
}
function patch(file: string, pos: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try { writeSync(fd, bytes, 0, bytes.length, pos); } finally { closeSync(fd); }
}
const u64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(n); return b; };

t.before(() => writeGood(good));

t.test('the undamaged file (70 transactions) passes the check and opens with every record', async (t) => {
  const dir = damaged('control', () => undefined);
  for (let i = 0; i < 3; i++) { // reopened: no false alarm on a file lmdb wrote and reopened
    const s = new LmdbStore({ dataDir: dir });
    await s.open();
    t.equal(await s.size(), 3000 + i);
    t.match(await s.get({ brandCode: BRAND, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905321000001' }), { status: 'RET' });
    await s.apply([movement(5000 + i, 'RET')]);
    await s.close();
  }
});

const cases: Array<[string, (file: string) => void, RegExp]> = [
  ['a flipped byte in the magic of meta page 0', (f) => patch(f, 0x18, Buffer.from([0x00])), /meta page 0: magic/],
  ['a flipped byte in the flags of meta page 1', (f) => patch(f, layout(f).psize + 0x12, Buffer.from([0x00])), /meta page 1: not flagged as a meta page/],
  ['a page size that is not a power of two in the newest meta page', (f) => patch(f, layout(f).at + 0x30, Buffer.from([0x01, 0x30])), /page size/],
  ['a data version from another lmdb', (f) => patch(f, layout(f).at + 0x1c, Buffer.from([0x01])), /data version 1/],
  ['the file truncated to half its pages', (f) => truncateSync(f, Math.floor(layout(f).size / layout(f).psize / 2) * layout(f).psize), /truncated: \d+ bytes, but meta page [01]/],
  ['the file truncated inside meta page 0', (f) => truncateSync(f, 100), /meta page 0: the file ends inside it/],
  ['the file truncated after meta page 0', (f) => truncateSync(f, layout(f).psize + 64), /meta page 1: the file ends inside it/],
  ['random garbage of the same size', (f) => writeFileSync(f, randomBytes(statSync(f).size)), /meta page 0/],
  ['the main database root beyond the end of the file', (f) => { const l = layout(f); patch(f, l.at + 0x88, u64(l.lastPage + 50n)); }, /main database root page \d+ is outside pages/],
  ['the main database root page overwritten with garbage', (f) => { const l = layout(f); patch(f, Number(l.mainRoot) * l.psize, randomBytes(l.psize)); }, /main database root page \d+ (carries page number|is not a branch)/],
  ['a named database record in the main root overwritten', (f) => {
    const l = layout(f);
    const page = readFileSync(f).subarray(Number(l.mainRoot) * l.psize, (Number(l.mainRoot) + 1) * l.psize);
    const node = page.readUInt16LE(24) + 24; // the first node: its key, then its 48-byte database record
    patch(f, Number(l.mainRoot) * l.psize + node + 8 + page.readUInt16LE(node + 6) + 40, u64(0xdead_beefn)); // md_root
  }, /named "\w+" database root page \d+ is outside pages/],
];

for (const [name, damage, fault] of cases) {
  t.test(`${name}: open refuses with GW_ERR_STORE_CORRUPT naming the file (no crash)`, async (t) => {
    const dir = damaged(name.replace(/\W+/g, '-'), damage);
    const file = join(dir, LMDB_FILE);
    const before = readFileSync(file);
    for (let attempt = 0; attempt < 2; attempt++) { // the directory lock is released after the refusal
      const s = new LmdbStore({ dataDir: dir });
      const err = await s.open().then(() => null, (e: Error & { code?: string; statusCode?: number }) => e);
      t.equal(err?.code, 'GW_ERR_STORE_CORRUPT', `attempt ${attempt + 1}: ${err?.message}`);
      t.equal(err?.statusCode, 503);
      t.ok(err?.message.includes(file), 'the message names the file');
      t.match(err?.message, fault, 'and the fault');
    }
    t.same(readFileSync(file), before, 'the damaged file is left as it was (evidence for the operator)');
  });
}

t.test('trigger: a real gateway process on a damaged consents.mdb exits 1 with GW_ERR_STORE_CORRUPT, not 139', async (t) => {
  const dir = join(root, 'gateway');
  mkdirSync(join(dir, 'mirror'), { recursive: true });
  copyFileSync(join(good, LMDB_FILE), join(dir, 'mirror', LMDB_FILE));
  patch(join(dir, 'mirror', LMDB_FILE), 0x18, Buffer.from([0x00])); // the flipped meta byte of the report
  patch(join(dir, 'mirror', LMDB_FILE), layout(join(good, LMDB_FILE)).psize + 0x18, Buffer.from([0x00]));
  const { child, output } = await spawnGateway({ IYS_GATE_DATA_DIR: dir, IYS_GATE_API_KEY: 'lmdb-corrupt-key-0123456789', IYS_GATE_STORE: 'lmdb' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (c, s) => r([c, s])));
  clearTimeout(timer);
  t.equal(signal, null, 'no signal (was SIGSEGV, exit 139)');
  t.equal(code, 1);
  t.match(output(), `iys-gate: GW_ERR_STORE_CORRUPT: Data file ${join(dir, 'mirror', LMDB_FILE)} is damaged (meta page 0: magic`);
});
