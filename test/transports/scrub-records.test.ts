/**
 * The scrub's byte-level RFC 4180 record splitter (src/transports/scrub/csv-records.ts) against
 * csv-parse as the oracle: random well-formed CSV (quoted separators, `""`, LF/CRLF inside
 * quotes, Turkish letters), random chunk boundaries; the records' bytes re-assemble the input
 * exactly and each record parses to the fields that were written. Plus delimiter detection and
 * the charset helpers.
 */
import t from 'tap';
import { parse } from 'csv-parse/sync';
import { charsetOfContentType, rangeDecoder, sniffBom } from '../../src/transports/scrub/charset.ts';
import { detectDelimiter, firstField, RecordSplitter, type CsvRecord, type Delimiter } from '../../src/transports/scrub/csv-records.ts';

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function rng(seed: number) {
  return () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let x = Math.imul(seed ^ (seed >>> 15), 1 | seed); x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x; return ((x ^ (x >>> 14)) >>> 0) / 4294967296; };
}
const ALPHABET = ['a', 'Z', '5', ' ', 'ş', 'İ', 'ğ', 'Ö', ',', ';', '\t', '"', '\n', '\r\n', '€'];

function split(buf: Buffer, cuts: number[], delimiter: Delimiter | null): CsvRecord[] {
  const sp = new RecordSplitter({ delimiter, maxRecordBytes: 1 << 20 });
  const out: CsvRecord[] = [];
  let prev = 0;
  for (const c of [...cuts, buf.length]) { sp.push(buf.subarray(prev, c), out); prev = c; }
  sp.end(out);
  return out;
}

t.test('property: 400 random lists × random chunkings agree with csv-parse', async (t) => {
  const rand = rng(20261201);
  let checked = 0;
  for (let n = 0; n < 400; n++) {
    const delimiter = ([',', ';', '\t'] as const)[Math.floor(rand() * 3)]!;
    const eol = rand() < 0.5 ? '\n' : '\r\n';
    const rows: string[][] = [];
    const nRows = 1 + Math.floor(rand() * 6);
    const width = 1 + Math.floor(rand() * 4);
    for (let r = 0; r < nRows; r++) {
      const row: string[] = [];
      for (let f = 0; f < width; f++) {
        let v = '';
        const len = Math.floor(rand() * 8);
        for (let k = 0; k < len; k++) v += ALPHABET[Math.floor(rand() * ALPHABET.length)];
        if (f === 0 && v === '') v = 'x'; // a record of one empty field is a blank line
        row.push(v);
      }
      rows.push(row);
    }
    const needsQuotes = (v: string) => /[",;\t\r\n]/.test(v) || v !== v.trim();
    const text = rows.map((row) => row.map((v) => (needsQuotes(v) || rand() < 0.2 ? `"${v.replaceAll('"', '""')}"` : v)).join(delimiter)).join(eol) + (rand() < 0.8 ? eol : '');
    const buf = Buffer.from(text);
    const cuts = [...new Set(Array.from({ length: Math.floor(rand() * 6) }, () => 1 + Math.floor(rand() * (buf.length - 1))))].filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b);
    const recs = split(buf, cuts, delimiter);
    let oracle: string[][];
    try { oracle = parse(text, { delimiter, relax_column_count: true, record_delimiter: eol }) as string[][]; } catch (e) { t.fail(`oracle on ${JSON.stringify(text)}: ${(e as Error).message}`); return; }
    const joined = Buffer.concat(recs.map((r) => r.buf.subarray(r.start, r.end + r.eol)));
    if (!joined.equals(buf) || recs.length !== rows.length || oracle.length !== rows.length
      || recs.some((r, i) => !r.ok || JSON.stringify(parse(r.buf.subarray(r.start, r.end), { delimiter, relax_column_count: true })[0]) !== JSON.stringify(rows[i]))
      || JSON.stringify(oracle) !== JSON.stringify(rows)) {
      t.fail(`list ${n} (${JSON.stringify(text)}, cuts ${cuts}): ${recs.length} records`);
      return;
    }
    // the first field, as the scrub reads it, is the written first field (trimmed)
    const dec = rangeDecoder('utf-8');
    for (let i = 0; i < recs.length; i++) if (firstField(recs[i]!, delimiter, dec) !== rows[i]![0]!.trim()) { t.fail(`list ${n} record ${i}: first field`); return; }
    checked++;
  }
  t.equal(checked, 400);
});

t.test('line numbers count quoted line breaks; lone CR ends a record; malformed records flagged', async (t) => {
  const recs = split(Buffer.from('a,"x\ny\nz"\nb\rc\r\nd,"open'), [], ',');
  t.same(recs.map((r) => [r.buf.toString('utf8', r.start, r.end), r.eol, r.line, r.ok]), [
    ['a,"x\ny\nz"', 1, 1, true], ['b', 1, 4, true], ['c', 2, 5, true], ['d,"open', 0, 6, false],
  ]);
  t.same(split(Buffer.from('"a"b,c\n'), [], ',').map((r) => r.ok), [false]);
  t.same(split(Buffer.from('a\r'), [1], ',').map((r) => [r.end - r.start, r.eol]), [[1, 1]], 'CR at a chunk end, then end of body');
  t.same(split(Buffer.from('a\r\nb'), [2], ',').map((r) => [r.buf.toString('utf8', r.start, r.end), r.eol]), [['a', 2], ['b', 0]], 'CRLF split across chunks');
});

t.test('detectDelimiter', async (t) => {
  t.equal(detectDelimiter(Buffer.from('telefon,not\n05550000004,"Eski numara, aramayın:\n05550000003,yeni numara"\n')), ',');
  t.equal(detectDelimiter(Buffer.from('Telefon;Ad Soyad;Şehir\r\n0555;Ayşe, Ali;İzmir\r\n0555;Can;Van\r\n')), ';');
  t.equal(detectDelimiter(Buffer.from('tel\tad\n1\tx, y\n')), '\t');
  t.equal(detectDelimiter(Buffer.from('05550000001\n+90 555 000 00 02\n')), null);
  t.equal(detectDelimiter(Buffer.from('')), null);
  // ties on counts are settled by which split gives recipients in the first column
  const isPhone = (f: string) => /^0\d{10}$/.test(f);
  t.equal(detectDelimiter(Buffer.from('05550000001;Ali, Veli\n05550000002;Can, Ece\n'), isPhone), ';');
  t.equal(detectDelimiter(Buffer.from('05550000001,Ali; Veli\n05550000002,Can; Ece\n'), isPhone), ',');
  t.equal(detectDelimiter(Buffer.from('05550000001\tAli, Veli\n05550000002\tCan, Ece\n'), isPhone), '\t');
  t.equal(detectDelimiter(Buffer.from('05550000001\tAli, Veli\n05550000002\tCan, Ece\n')), ',', 'without the recipient test: the earlier candidate');
});

t.test('charset helpers', async (t) => {
  t.equal(charsetOfContentType(undefined), 'utf-8');
  t.equal(charsetOfContentType('text/csv'), 'utf-8');
  t.equal(charsetOfContentType('text/csv; header=present; charset=CP1254'), 'windows-1254');
  t.equal(charsetOfContentType('text/csv; charset="iso-8859-9"'), 'iso-8859-9');
  t.throws(() => charsetOfContentType('text/csv; charset=koi8-r'), { code: 'GW_ERR_UNSUPPORTED_CHARSET', statusCode: 415 });
  t.same(sniffBom(Buffer.from([0xef, 0xbb, 0xbf, 0x30])), { charset: 'utf-8', length: 3 });
  t.equal(sniffBom(Buffer.from('0555')), null);
  t.throws(() => sniffBom(Buffer.from([0xfe, 0xff, 0, 0x30])), { code: 'GW_ERR_UNSUPPORTED_CHARSET' });
  const d = rangeDecoder('windows-1254');
  t.equal(d(Buffer.from([0x41, 0xde, 0xfd, 0xd0, 0x80]), 0, 5), 'AŞıĞ€');
  t.equal(d(Buffer.from('plain'), 1, 4), 'lai');
});
