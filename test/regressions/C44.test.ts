// C44: line-based scrubbing split quoted multi-line CSV records: `telefon,not` /
// `05550000004,"Eski numara, aramayın:` / `05550000003,yeni numara"` gave 3 decisions for 2
// records, emitted a fragment of the RET record, and the output did not parse. Now each RFC 4180
// record is decided once and emitted whole or not at all; `delimiter=` (`,` `;` tab) or detection.
import t from 'tap';
import { parse } from 'csv-parse/sync';
import { postScrub, scrubChunks, scrubGateway, cutAt } from '../helpers/scrub.ts';

t.test('C44 trigger: one decision per record, the RET record out whole, output valid CSV', async (t) => {
  const gw = await scrubGateway(t);
  const body = 'telefon,not\n05550000004,"Eski numara, aramayın:\n05550000003,yeni numara"\n05550000001,"ok"\n';
  const res = await postScrub(gw, 'type=ARAMA', body);
  t.equal(res.status, 200);
  t.equal(res.text, 'telefon,not\n05550000001,"ok"\n');
  t.same(parse(res.text), [['telefon', 'not'], ['05550000001', 'ok']], 'parses');
  const ann = await postScrub(gw, 'type=ARAMA&annotate=true', body);
  t.equal(ann.text, 'telefon,not,decision,reason\n05550000004,"Eski numara, aramayın:\n05550000003,yeni numara",BLOCK,CONSENT_RET\n05550000001,"ok",ALLOW,CONSENT_ONAY\n');
  t.same(parse(ann.text).map((r: string[]) => r.length), [4, 4, 4], 'annotated: 3 records of 4 fields');
});

t.test('C44 variants: an allowed multi-line record comes back whole; CRLF inside quotes; `;` and tab', async (t) => {
  const gw = await scrubGateway(t);
  const body = 'telefon;not\r\n"05550000001";"satır 1\r\nsatır 2; ""alıntı"""\r\n05550000002;"a\r\nb"\r\n';
  const res = await postScrub(gw, 'type=ARAMA', body);
  t.equal(res.text, 'telefon;not\r\n"05550000001";"satır 1\r\nsatır 2; ""alıntı"""\r\n');
  t.same(parse(res.text, { delimiter: ';' }), [['telefon', 'not'], ['05550000001', 'satır 1\r\nsatır 2; "alıntı"']]);
  // tab, given explicitly (`%09` or `tab`) and detected
  const tsv = 'telefon\tnot\n05550000002\t"x\n05550000001\ty"\n05550000003\tz\n';
  for (const q of ['type=ARAMA&delimiter=%09', 'type=ARAMA&delimiter=tab', 'type=ARAMA']) {
    t.equal((await postScrub(gw, q, tsv)).text, 'telefon\tnot\n05550000003\tz\n', q);
  }
  // a separator given explicitly wins over detection: `;` list read with `,` has whole lines as the first field
  t.equal((await postScrub(gw, 'type=ARAMA&delimiter=%2C', 'telefon;ad\n05550000001;Ali\n')).text, 'telefon;ad\n', 'wrong separator: fail closed');
  t.equal((await postScrub(gw, 'type=ARAMA&delimiter=pipe', 'x\n')).status, 400);
  // detection: a `;` list whose names hold commas, no header (counts tie; the first column decides)
  t.equal((await postScrub(gw, 'type=ARAMA', '05550000001;Yılmaz, Ayşe\n05550000002;Öz, Can\n05550000003;Işık, Ece\n')).text, '05550000001;Yılmaz, Ayşe\n05550000003;Işık, Ece\n');
});

t.test('C44 variants: broken quoting is blocked, never guessed', async (t) => {
  const gw = await scrubGateway(t);
  // a quote left open to the end would swallow every line after it into an allowed record
  const open = 'telefon,not\n05550000001,"açık tırnak\n05550000002,x\n05550000004,y\n';
  const res = await postScrub(gw, 'type=ARAMA&annotate=true', open);
  t.equal(res.text, 'telefon,not,decision,reason\n05550000001,"açık tırnak\n05550000002,x\n05550000004,y\n,BLOCK,MALFORMED_CSV_RECORD\n', 'the whole rest is one broken record, refused');
  t.equal((await postScrub(gw, 'type=ARAMA', open)).text, 'telefon,not\n');
  // text after a closing quote: malformed, blocked; the next record is read normally
  const after = '05550000001,"a"b\n05550000003,c\n';
  t.equal((await postScrub(gw, 'type=ARAMA&annotate=true', after)).text, '05550000001,"a"b,BLOCK,MALFORMED_CSV_RECORD\n05550000003,c,ALLOW,CONSENT_ONAY\n');
  // a quote inside an unquoted field is a plain character (csv-parse relax_quotes): one line, one record
  t.equal((await postScrub(gw, 'type=ARAMA', '05550000001,O"Brien\n05550000002,x"\n05550000003,y\n')).text, '05550000001,O"Brien\n05550000003,y\n');
  // old Mac line breaks (lone CR) are record ends, not one giant record
  t.equal((await postScrub(gw, 'type=ARAMA', 'telefon\r05550000001\r05550000002\r05550000003\r')).text, 'telefon\r05550000001\r05550000003\r');
  // quoted multi-line record split at every chunk boundary
  const body = Buffer.from('telefon,not\n05550000004,"Eski numara, aramayın:\r\n05550000003,yeni numara"\r\n05550000001,"ok"\r');
  for (let cut = 1; cut < body.length; cut++) {
    const { out } = await scrubChunks(gw, cutAt(body, [cut]));
    if (out.toString() !== 'telefon,not\n05550000001,"ok"\r') { t.fail(`cut ${cut}: ${JSON.stringify(out.toString())}`); return; }
  }
  t.pass('every cut');
});
