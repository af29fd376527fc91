// C39: a stream decoded chunk by chunk splits multi-byte letters. 40,000 lines
// `+905550000003,Şükrü Öztürk N,İstanbul Çağlayan` to /v1/scrub came back with 2 lines holding
// U+FFFD. The scrub now splits records on bytes and echoes each record's own bytes: every
// allowed line is byte-identical whatever the chunk boundaries.
import t from 'tap';
import { cutAt, postScrub, postScrubStream, scrubChunks, scrubGateway } from '../helpers/scrub.ts';

const LINE = '+905550000003,Şükrü Öztürk N,İstanbul Çağlayan\n';

t.test('C39 trigger: 40,000 Turkish lines over a real socket in odd-sized chunks come back byte-identical', async (t) => {
  const gw = await scrubGateway(t, { listen: true });
  const list = Buffer.from(LINE.repeat(40_000));
  // chunks of 4,093 bytes (a prime: boundaries fall inside Ş, ü, Ö, İ, Ç, ğ again and again)
  const cuts: number[] = [];
  for (let i = 4093; i < list.length; i += 4093) cuts.push(i);
  const inside = cuts.filter((c) => (list[c]! & 0xc0) === 0x80).length;
  t.ok(inside > 50, `${inside} chunk boundaries fall inside a multi-byte letter`);
  const res = await postScrubStream(gw, 'type=MESAJ', cutAt(list, cuts));
  t.equal(res.status, 200);
  t.equal(res.raw.indexOf(Buffer.from('\uFFFD')), -1, 'no U+FFFD');
  t.ok(res.raw.equals(list), 'output = input, byte for byte');
});

t.test('C39: a boundary at every byte of a line (in-process, exact boundaries)', async (t) => {
  const gw = await scrubGateway(t);
  const list = Buffer.from('telefon,ad,şehir\n' + LINE + '+905550000002,Çağrı Işık,Muğla\n' + LINE);
  const expected = Buffer.from('telefon,ad,şehir\n' + LINE + LINE);
  for (let cut = 1; cut < list.length; cut++) {
    const { out } = await scrubChunks(gw, cutAt(list, [cut]), { type: 'MESAJ' });
    if (!out.equals(expected)) { t.fail(`cut at ${cut}: ${JSON.stringify(out.toString())}`); return; }
  }
  // and one byte per chunk
  const { out, stats } = await scrubChunks(gw, cutAt(list, Array.from({ length: list.length - 1 }, (_x, i) => i + 1)), { type: 'MESAJ' });
  t.ok(out.equals(expected), 'one byte per chunk');
  t.same(stats, { lines: 3, allowed: 2, blocked: 1, header: true });
});

t.test('C39 variant: the recipient field itself split inside a multi-byte e-mail letter, annotated', async (t) => {
  const gw = await scrubGateway(t);
  const list = Buffer.from('ayse@example.com,Ayşe\nöğrenci@example.com,Öğrenci\nali@example.com,Ali\n');
  const expected = 'ayse@example.com,Ayşe,ALLOW,CONSENT_ONAY\nöğrenci@example.com,Öğrenci,BLOCK,RECIPIENT_NOT_REGISTRABLE\nali@example.com,Ali,BLOCK,CONSENT_RET\n';
  for (let cut = 1; cut < list.length; cut++) {
    const { out } = await scrubChunks(gw, cutAt(list, [cut]), { type: 'EPOSTA', annotate: true });
    if (out.toString() !== expected) { t.fail(`cut at ${cut}: ${out.toString()}`); return; }
  }
  t.pass('every cut');
  const res = await postScrub(gw, 'type=EPOSTA&annotate=true', list);
  t.equal(res.text, expected);
});
