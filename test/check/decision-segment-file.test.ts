/**
 * The decision log's open segment file (segment-file.ts): appends into zero-filled space (no size
 * change per fdatasync), the zero tail read as the clean end, the append-log.ts torn-tail rule
 * kept (a torn frame in the zero tail is copied aside and cut, never glued onto; damage with a
 * valid frame after it refuses the open), and the tail cut at close.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentFile } from '../../src/check/decision-log/segment-file.ts';
import { LOG_MAGIC, walkFrames } from '../../src/check/decision-log/segments.ts';

function tmp(t: { teardown(f: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'iysgate-dsf-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
const payload = (i: number) => Buffer.from(`block-${i}-`.padEnd(100, String.fromCharCode(97 + (i % 26))));

async function replay(path: string, warn?: (m: string) => void): Promise<{ file: SegmentFile; got: string[] }> {
  const got: string[] = [];
  const file = await SegmentFile.open(path, { onRecord: (p) => got.push(p.toString()), warn, growBytes: 8192 });
  return { file, got };
}

t.test('appends land in zero-filled space: the size grows by growBytes, not per append; reopen reads the records and stops at the zeros', async (t) => {
  const path = join(tmp(t), 'seg-000001.dlog');
  const { file: f } = await replay(path);
  await f.append(payload(0));
  const grown = statSync(path).size;
  t.ok(grown >= LOG_MAGIC.length + 109 + 8192, `the first append grew the file ahead (${grown} bytes)`);
  await Promise.all([1, 2, 3, 4, 5].map((i) => f.append(payload(i))));
  t.equal(statSync(path).size, grown, 'later appends overwrite the zero tail: same size');
  t.equal(f.bytes, LOG_MAGIC.length + 6 * 109);
  const raw = readFileSync(path);
  let blocks = 0;
  t.same(walkFrames(raw, LOG_MAGIC.length, () => { blocks++; }), { end: LOG_MAGIC.length + 6 * 109, damage: null }, 'the zero tail is a clean end for readers');
  t.equal(blocks, 6);
  // a crash now (no close): the zero tail stays; reopening replays the 6 records and appends after them
  const warns: string[] = [];
  const { file: g, got } = await replay(path, (m) => warns.push(m));
  t.same(got, [0, 1, 2, 3, 4, 5].map((i) => payload(i).toString()));
  t.same(warns, [], 'a zero tail is no torn tail');
  await g.append(payload(6));
  await g.close();
  t.equal(statSync(path).size, LOG_MAGIC.length + 7 * 109, 'close cuts the zero tail');
  const { file: h, got: again } = await replay(path);
  t.equal(again.length, 7);
  await h.close();
  await f.close();
});

t.test('appends past the zero-filled space grow it again, in the same fdatasync', async (t) => {
  const path = join(tmp(t), 'seg-000001.dlog');
  const { file: f } = await replay(path);
  for (let i = 0; i < 200; i++) await f.append(payload(i)); // 200 × 109 bytes > 8 KiB: several grows
  await f.close();
  const { file: g, got } = await replay(path);
  t.equal(got.length, 200);
  t.equal(got[199], payload(199).toString());
  await g.close();
});

t.test('a torn frame in the zero tail is copied to .broken and cut; the next append is not glued onto it', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'seg-000001.dlog');
  const { file: f } = await replay(path);
  await f.append(payload(0)); await f.append(payload(1));
  const end = f.bytes;
  // a crash mid-write of the third frame: its first 40 bytes reached the disk, the rest is zeros
  const raw = readFileSync(path);
  const third = Buffer.alloc(109); third.writeUInt32LE(100, 0); third[4] = 1; third.writeUInt32LE(0xdeadbeef, 5); payload(2).copy(third, 9);
  third.copy(raw, end, 0, 40);
  writeFileSync(path, raw);
  const warns: string[] = [];
  const { file: g, got } = await replay(path, (m) => warns.push(m));
  t.equal(got.length, 2, 'the two durable records replay');
  t.match(warns.join('\n'), /torn last record at byte \d+/);
  t.ok(existsSync(path + '.broken'), 'the torn bytes are kept aside');
  t.equal(statSync(path).size, end, 'cut at the end of the last valid frame');
  await g.append(payload(3));
  await g.close();
  const { file: h, got: after } = await replay(path);
  t.same(after, [payload(0), payload(1), payload(3)].map(String));
  await h.close();
  await f.close();
});

t.test('damage followed by a valid frame refuses the open (GW_ERR_LOG_CORRUPT), nothing changed', async (t) => {
  const path = join(tmp(t), 'seg-000001.dlog');
  const { file: f } = await replay(path);
  for (let i = 0; i < 3; i++) await f.append(payload(i));
  await f.close();
  const raw = readFileSync(path);
  raw[LOG_MAGIC.length + 20]! ^= 0xff; // inside the first frame: frames 2 and 3 still valid after it
  writeFileSync(path, raw);
  await t.rejects(SegmentFile.open(path, { onRecord: () => undefined }), { code: 'GW_ERR_LOG_CORRUPT' });
  t.same(readFileSync(path), raw, 'the file is left as it was');
});

t.test('a file that is not a segment is refused', async (t) => {
  const path = join(tmp(t), 'seg-000001.dlog');
  writeFileSync(path, 'hello world, not a log');
  await t.rejects(SegmentFile.open(path, { onRecord: () => undefined }), { code: 'GW_ERR_LOG_CORRUPT' });
});
