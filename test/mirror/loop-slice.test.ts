// loop-slice.ts: bulk work yields to the event loop between bounded slices (issue 12 item 6).
import { Readable } from 'node:stream';
import t from 'tap';
import { importCsv } from '../../src/mirror/importer.ts';
import { LoopSlice, feedSliced } from '../../src/mirror/loop-slice.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';

const HEADER = 'creationDate,transactionId,recipient,recipientType,type,status,consentDate,source';
const row = (n: number) => `2026-11-01 10:00:00,tx${n},+90532${String(n).padStart(7, '0')},BIREYSEL,MESAJ,${n % 3 ? 'ONAY' : 'RET'},2026-11-01 10:00:00,HS_WEB`;

t.test('an import yields between slices: other callbacks run while it parses and applies', async (t) => {
  const store = new MemoryStore({ dataDir: null });
  await store.open();
  const text = [HEADER, ...Array.from({ length: 20_000 }, (_, i) => row(i))].join('\n') + '\n';
  // one 1.3 MB chunk: without slicing it would be parsed and applied in one synchronous run
  const slice = new LoopSlice(1);
  let ticks = 0;
  let running = true;
  const spin = () => { ticks++; if (running) setImmediate(spin); };
  setImmediate(spin);
  const report = await importCsv(Readable.from([text]), { brandCode: 7, store, slice });
  running = false;
  t.equal(report.applied, 20_000);
  t.ok(slice.yields >= 5, `yielded ${slice.yields} times`);
  t.ok(ticks >= slice.yields, `other work ran ${ticks} times during the import`);
  t.equal((await store.get({ brandCode: 7, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+905320000003' }))?.status, 'RET', 'applied in file order');
});

t.test('feedSliced hands over every character, in pieces of the given size', async (t) => {
  const parts: string[] = [];
  await feedSliced('abcdefghij', (p) => parts.push(p), new LoopSlice(0), 3);
  t.same(parts, ['abc', 'def', 'ghi', 'j']);
  const slice = new LoopSlice(0);
  await feedSliced('x'.repeat(10), () => undefined, slice, 2);
  t.equal(slice.yields, 5, 'a zero budget yields after every piece');
});
