import t from 'tap';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppendLog, LOG_MAGIC, encodeFrame, nodeLogFs, readLogFile, readLogFileSync, writeLogFileSync, type LogFs,
} from '../../src/mirror/append-log.ts';

function tempDir(t: { teardown(fn: () => void): void }) {
  const d = mkdtempSync(join(tmpdir(), 'iysgate-alog-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function openLog(path: string, extra: Partial<Parameters<typeof AppendLog.open>[1]> = {}) {
  const records: string[] = [];
  const warnings: string[] = [];
  const log = await AppendLog.open(path, { onRecord: (p) => records.push(p.toString('utf8')), warn: (m) => warnings.push(m), ...extra });
  return { log, records, warnings };
}

const LINES = { valid: (l: string) => /^rec-\d+$/.test(l) };

t.test('records round-trip; concurrent appends share one write + fdatasync (group commit)', async (t) => {
  const path = join(tempDir(t), 'a.log');
  let syncs = 0;
  const fs: LogFs = { ...nodeLogFs, datasync: async (fh, p) => { syncs++; await nodeLogFs.datasync(fh, p); } };
  const a = await openLog(path, { fs });
  t.same(a.records, [], 'a new file has no records');
  await a.log.append('first');
  await Promise.all(Array.from({ length: 50 }, (_, i) => a.log.append(`rec ${i}\nwith two lines`)));
  t.ok(syncs <= 3, `51 appends, ${syncs} fdatasyncs`);
  await a.log.close();
  const buf = readFileSync(path);
  t.same(buf.subarray(0, 8), LOG_MAGIC, 'the file starts with the magic');
  const b = await openLog(path);
  t.teardown(() => b.log.close());
  t.equal(b.records.length, 51);
  t.equal(b.records[0], 'first');
  t.equal(b.records[50], 'rec 49\nwith two lines');
  t.same(b.warnings, []);
  await t.rejects(b.log.append(''), RangeError, 'an empty record is refused (length 0 is invalid on disk)');
});

t.test('a torn tail is copied aside and truncated before the first append; the next record is not glued onto it (C42)', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'j.log');
  const a = await openLog(path);
  await a.log.append('one');
  await a.log.append('two');
  await a.log.close();
  const good = statSync(path).size;
  const frame = encodeFrame(Buffer.from('three-never-acknowledged'));
  appendFileSync(path, frame.subarray(0, 13)); // crash mid-write
  const b = await openLog(path);
  t.same(b.records, ['one', 'two']);
  t.equal(statSync(path).size, good, 'truncated at the last valid record');
  t.ok(existsSync(path + '.broken'), 'the damaged file is kept as .broken');
  t.equal(statSync(path + '.broken').size, good + 13);
  t.match(b.warnings.join('\n'), new RegExp(`torn last record at byte ${good} \\(13 bytes`));
  await b.log.append('four');
  await b.log.close();
  const c = await openLog(path);
  t.teardown(() => c.log.close());
  t.same(c.records, ['one', 'two', 'four'], 'the record appended after the repair is read back');
  t.same(c.warnings, []);
});

t.test('a zero-filled tail (size grown, data never written) is a torn tail', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'z.log');
  const a = await openLog(path);
  await a.log.append('kept');
  await a.log.close();
  const good = statSync(path).size;
  appendFileSync(path, Buffer.alloc(4096));
  const b = await openLog(path);
  t.same(b.records, ['kept']);
  t.equal(statSync(path).size, good);
  t.match(b.warnings.join('\n'), /impossible record length 0/);
  await b.log.append('next');
  await b.log.close();
  t.same((await openLog(path)).records, ['kept', 'next']);
});

t.test('a flipped byte in the middle (valid records after it) is GW_ERR_LOG_CORRUPT naming file and offset; nothing is changed', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'm.log');
  const a = await openLog(path);
  for (let i = 0; i < 5; i++) await a.log.append(`record-${i}-${'x'.repeat(40)}`);
  await a.log.close();
  const buf = readFileSync(path);
  const frameLen = 9 + 'record-0-'.length + 40;
  const second = 8 + frameLen;
  buf[second + 20]! ^= 0x01; // inside the payload of the second record
  writeFileSync(path, buf);
  const err = await openLog(path).then(() => null, (e: Error & { code?: string }) => e);
  t.equal(err?.code, 'GW_ERR_LOG_CORRUPT');
  t.match(err?.message, path);
  t.match(err?.message, `at byte ${second}`);
  t.match(err?.message, /checksum mismatch; a valid record follows at byte/);
  t.same(readFileSync(path), buf, 'the file is left as it was');
  t.notOk(existsSync(path + '.broken'));

  // a damaged length field in the middle reads as "runs past the end": still found, still refused
  const buf2 = readFileSync(path);
  buf2[second + 20]! ^= 0x01; // restore
  buf2.writeUInt32LE(1_000_000, second);
  writeFileSync(path, buf2);
  const err2 = await openLog(path).then(() => null, (e: Error & { code?: string }) => e);
  t.equal(err2?.code, 'GW_ERR_LOG_CORRUPT');
  t.match(err2?.message, `at byte ${second}`);
});

t.test('a flipped byte in the last record only (nothing valid after) is a torn tail', async (t) => {
  const path = join(tempDir(t), 'l.log');
  const a = await openLog(path);
  await a.log.append('a');
  await a.log.append('b-last');
  await a.log.close();
  const buf = readFileSync(path);
  buf[buf.length - 1]! ^= 0xff;
  writeFileSync(path, buf);
  const b = await openLog(path);
  t.teardown(() => b.log.close());
  t.same(b.records, ['a']);
  t.match(b.warnings.join('\n'), /checksum mismatch/);
});

t.test('a header cut short (crash while creating the file) starts an empty log', async (t) => {
  const path = join(tempDir(t), 'h.log');
  writeFileSync(path, 'IYSL');
  const b = await openLog(path);
  t.same(b.records, []);
  await b.log.append('x');
  await b.log.close();
  t.same((await openLog(path)).records, ['x']);
});

t.test('a legacy (unframed) file is read, a glued record salvaged, a torn line dropped, then converted', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'old.log');
  const old = 'rec-1\nrec-2\nre' + 'rec-3\nrec-4\nrec-'; // rec-3 glued onto a torn line; a torn last line
  writeFileSync(path, old);
  const a = await openLog(path, { legacy: LINES });
  t.same(a.records, ['rec-1', 'rec-2', 'rec-3', 'rec-4']);
  t.match(a.warnings.join('\n'), /:3: a record glued onto a torn line/);
  t.match(a.warnings.join('\n'), /torn last line \(4 bytes\)/);
  t.match(a.warnings.join('\n'), /converted from the format of an earlier release \(4 records/);
  t.equal(readFileSync(path + '.legacy', 'utf8'), old, 'the old file is kept');
  t.same(readFileSync(path).subarray(0, 8), LOG_MAGIC, 'rewritten in the framed format before any append');
  await a.log.append('rec-5');
  await a.log.close();
  const b = await openLog(path, { legacy: LINES });
  t.teardown(() => b.log.close());
  t.same(b.records, ['rec-1', 'rec-2', 'rec-3', 'rec-4', 'rec-5']);
  t.same(b.warnings, []);
  // without a legacy reader an unframed file is refused
  const other = join(dir, 'other.log');
  writeFileSync(other, 'hello\n');
  await t.rejects(openLog(other), { code: 'GW_ERR_LOG_CORRUPT' });
});

t.test('a legacy file with an unreadable complete line before its end is GW_ERR_LOG_CORRUPT naming file and byte offset; nothing is converted', async (t) => {
  const dir = tempDir(t);
  for (const [name, old, offset] of [
    ['mid.log', 'rec-1\nrubbish\nrec-2\n', 6],
    ['utf8.log', 'rec-1\nçöp\u0000\nrec-2\nrec-', 6],
    ['garbage.log', '0000 4f 2a\n0010 ff ee\n', 0], // a hex dump written over the file: not a single record
  ] as const) {
    const path = join(dir, name);
    writeFileSync(path, old);
    const err = await openLog(path, { legacy: LINES }).then(() => null, (e: unknown) => e as { code?: string; message: string });
    t.equal(err?.code, 'GW_ERR_LOG_CORRUPT', `${name}: refused`);
    t.match(err?.message ?? '', new RegExp(`${name}.*\\b${offset}\\b`), `${name}: names the file and byte ${offset}`);
    t.equal(readFileSync(path, 'utf8'), old, `${name}: left as it was`);
    t.notOk(existsSync(path + '.legacy'), `${name}: not converted`);
  }
});

t.test('whole files: sealed write and read; cut short or unsealed is GW_ERR_LOG_CORRUPT, never repaired', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'snap.log');
  writeLogFileSync(path, ['a', 'b', Buffer.from('c')], { sealed: true });
  const got: string[] = [];
  t.same(await readLogFile(path, { onRecord: (p) => got.push(p.toString()) }), { legacy: false });
  t.same(got, ['a', 'b', 'c']);
  t.notOk(existsSync(path + '.tmp'), 'no temp file left');
  const full = readFileSync(path);
  writeFileSync(path, full.subarray(0, full.length - 3));
  await t.rejects(readLogFile(path, { onRecord: () => undefined }), { code: 'GW_ERR_LOG_CORRUPT', message: /incomplete/ });
  t.same(readFileSync(path), full.subarray(0, full.length - 3), 'not truncated');
  writeLogFileSync(path, ['a'], { sealed: false });
  await t.rejects(readLogFile(path, { onRecord: () => undefined }), { code: 'GW_ERR_LOG_CORRUPT', message: /without its seal/ });
  t.equal(await readLogFile(join(dir, 'missing'), { onRecord: () => undefined }), null);

  // single-record state files, sync reader; legacy JSON read as it was
  const st = join(dir, 'job.json');
  writeLogFileSync(st, [JSON.stringify({ n: 1 })], { sealed: true });
  t.same(JSON.parse(readLogFileSync(st)!.toString()), { n: 1 });
  writeFileSync(st, '{"n":2}');
  t.same(JSON.parse(readLogFileSync(st)!.toString()), { n: 2 }, 'a legacy JSON file');
  writeLogFileSync(st, [JSON.stringify({ n: 3 })], { sealed: true });
  const b = readFileSync(st);
  b[b.length - 5]! ^= 1;
  writeFileSync(st, b);
  t.throws(() => readLogFileSync(st), { code: 'GW_ERR_LOG_CORRUPT' });
});

t.test('sync() waits for appends in flight; a failed fdatasync fails the log for every later append', async (t) => {
  const path = join(tempDir(t), 's.log');
  let release!: () => void;
  let gate: Promise<void> | null = new Promise<void>((r) => { release = r; });
  let fail = false;
  const fs: LogFs = {
    ...nodeLogFs,
    datasync: async (fh, p) => {
      if (gate) await gate;
      if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      await nodeLogFs.datasync(fh, p);
    },
  };
  const a = await openLog(path, { fs });
  t.teardown(() => a.log.close());
  await t.resolves(a.log.sync(), 'nothing pending: at once');
  let appended = false;
  let synced = false;
  const ap = a.log.append('slow').then(() => { appended = true; });
  const sp = a.log.sync().then(() => { synced = true; });
  await new Promise((r) => setTimeout(r, 30));
  t.equal(synced, false, 'the barrier waits for the delayed fdatasync');
  release();
  gate = null;
  await Promise.all([ap, sp]);
  t.ok(appended && synced);
  fail = true;
  await t.rejects(a.log.append('lost'), { code: 'EIO' });
  fail = false;
  await t.rejects(a.log.append('after'), { code: 'EIO' }, 'the log stays failed until restart');
  await t.rejects(a.log.sync(), { code: 'EIO' });
  t.equal(a.log.failure?.message, 'EIO: i/o error, fdatasync');
});
