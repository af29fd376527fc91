import t from 'tap';
import { parse } from 'csv-parse/sync';
import { CsvLineReader } from '../../src/mirror/csv-lines.ts';

function read(text: string, chunk = 7) {
  const recs: Array<[string[], number]> = [];
  const errs: Array<[number, string]> = [];
  const r = new CsvLineReader((f, l) => recs.push([f, l]), (l, m) => errs.push([l, m]));
  for (let i = 0; i < text.length; i += chunk) r.push(text.slice(i, i + chunk));
  r.end();
  return { recs, errs };
}

t.test('plain lines, BOM, CRLF, blank lines, trimming, any chunking', async (t) => {
  const text = '\uFEFFa,b,c\r\n 1 , 2,3\r\n\r\n4,,6\n7,8,9';
  for (const chunk of [1, 2, 5, 1000]) {
    const { recs, errs } = read(text, chunk);
    t.same(recs, [[['a', 'b', 'c'], 1], [['1', '2', '3'], 2], [['4', '', '6'], 4], [['7', '8', '9'], 5]], `chunk ${chunk}`);
    t.same(errs, []);
  }
});

t.test('quoted fields go to csv-parse: commas, escaped quotes, newlines inside quotes', async (t) => {
  const text = 'a,b\n"x, y","he said ""hi"""\n"multi\nline",z\nplain,row\n';
  const { recs, errs } = read(text, 3);
  t.same(recs, [[['a', 'b'], 1], [['x, y', 'he said "hi"'], 2], [['multi\nline', 'z'], 3], [['plain', 'row'], 5]]);
  t.same(errs, []);
  // the same records as csv-parse gives for the whole text
  t.same(recs.map((r) => r[0]), parse(text, { trim: true, relax_column_count: true }));
});

t.test('broken quoting is reported with its line and never stops the stream', async (t) => {
  const a = read('h1,h2\n"bad"x,1\nok,2\n');
  t.same(a.recs.map((r) => r[0]), [['h1', 'h2'], ['ok', '2']]);
  t.equal(a.errs[0]![0], 2);
  const b = read('h1,h2\n"never closed,1\nnext,2\n');
  t.same(b.recs.map((r) => r[0]), [['h1', 'h2']]);
  t.same(b.errs.map((e) => e[0]), [2]);
  t.match(b.errs[0]![1], /unclosed quote/);
});
