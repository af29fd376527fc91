// C40: Turkish Excel saves "CSV" in Windows-1254. A `Telefon;Ad Soyad;Şehir` list sent with
// `charset=windows-1254` came back with every Turkish letter as U+FFFD and CRLF turned into LF.
// Now the declared charset is honoured (windows-1254, iso-8859-9, utf-8; others 415 naming
// them), allowed lines come back as their original bytes and the answer says its charset.
import t from 'tap';
import { postScrub, scrubGateway } from '../helpers/scrub.ts';

/** `s` in Windows-1254 bytes (written out here so the test does not use the decoder under test). */
const cp1254 = (s: string) => Buffer.from([...s].map((c) => {
  const map: Record<string, number> = { Ş: 0xde, ş: 0xfe, İ: 0xdd, ı: 0xfd, Ğ: 0xd0, ğ: 0xf0, Ü: 0xdc, ü: 0xfc, Ö: 0xd6, ö: 0xf6, Ç: 0xc7, ç: 0xe7 };
  const b = map[c] ?? c.charCodeAt(0);
  if (b > 0xff) throw new Error(`no 1254 byte for ${c}`);
  return b;
}));

const LIST = [
  'Telefon;Ad Soyad;Şehir',
  '05550000001;Ayşe Yılmaz;İstanbul',
  '05550000002;Çağrı Öztürk;Muğla',
  '05550000003;Şükrü Işık;Iğdır',
  '05550000004;Gülşen Ünal;Eskişehir',
];

t.test('C40 trigger: windows-1254 list with CRLF: decisions right, lines returned as sent', async (t) => {
  const gw = await scrubGateway(t);
  const body = cp1254(LIST.join('\r\n') + '\r\n');
  const res = await postScrub(gw, 'type=ARAMA', body, 'text/csv; charset=windows-1254');
  t.equal(res.status, 200);
  t.equal(res.type, 'text/plain; charset=windows-1254');
  const expected = cp1254([LIST[0], LIST[1], LIST[3]].join('\r\n') + '\r\n');
  t.ok(res.raw.equals(expected), 'original bytes, CRLF kept');
  t.equal(new TextDecoder('windows-1254').decode(res.raw), [LIST[0], LIST[1], LIST[3]].join('\r\n') + '\r\n');
  t.equal(res.raw.indexOf(Buffer.from('\uFFFD')), -1);
});

t.test('C40 variants: iso-8859-9 and label spellings, annotated output in the same bytes', async (t) => {
  const gw = await scrubGateway(t);
  const body = cp1254(LIST.join('\r\n') + '\r\n');
  for (const ct of ['text/csv; charset=ISO-8859-9', 'text/csv;charset="Windows-1254"', 'text/plain; charset=latin5']) {
    const res = await postScrub(gw, 'type=ARAMA&annotate=true', body, ct);
    t.equal(res.status, 200, ct);
    t.ok(res.raw.equals(cp1254([
      'Telefon;Ad Soyad;Şehir;decision;reason',
      '05550000001;Ayşe Yılmaz;İstanbul;ALLOW;CONSENT_ONAY',
      '05550000002;Çağrı Öztürk;Muğla;BLOCK;CONSENT_RET',
      '05550000003;Şükrü Işık;Iğdır;ALLOW;CONSENT_ONAY',
      '05550000004;Gülşen Ünal;Eskişehir;BLOCK;CONSENT_RET',
    ].join('\r\n') + '\r\n')), `${ct}: annotated with the list's own separator and line break`);
  }
  // the same list sent without a charset (read as UTF-8): the bytes still come back untouched
  const res = await postScrub(gw, 'type=ARAMA', body, 'text/csv');
  t.equal(res.status, 200);
  t.ok(res.raw.equals(cp1254([LIST[0], LIST[1], LIST[3]].join('\r\n') + '\r\n')), 'undeclared 1254: bytes untouched, decisions right');
});

t.test('C40 variants: an unsupported charset and a UTF-16 list are 415 naming the accepted ones', async (t) => {
  const gw = await scrubGateway(t);
  for (const ct of ['text/csv; charset=windows-1252', 'text/csv; charset=utf-16le', 'text/plain; charset=iso-8859-1']) {
    const res = await postScrub(gw, 'type=ARAMA', '05550000001\n', ct);
    t.equal(res.status, 415, ct);
    t.equal(res.json().code, 'GW_ERR_UNSUPPORTED_CHARSET');
    t.match(res.json().message, /accepted: utf-8, windows-1254, iso-8859-9/);
  }
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('05550000001\r\n05550000003\r\n', 'utf16le')]);
  const res = await postScrub(gw, 'type=ARAMA', utf16, 'text/plain');
  t.equal(res.status, 415, 'UTF-16 (Excel "Unicode text") by its byte order mark');
  t.equal(res.json().code, 'GW_ERR_UNSUPPORTED_CHARSET');
  t.match(res.json().message, /utf-16/);
});

t.test('C40 variant: a UTF-8 BOM (Excel "CSV UTF-8") with CRLF and `;`: the BOM stays at the top, the header is read', async (t) => {
  const gw = await scrubGateway(t);
  const text = LIST.join('\r\n') + '\r\n';
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
  // declared windows-1254 but the BOM says UTF-8: the BOM wins (WHATWG Encoding, BOM sniff)
  for (const ct of ['text/csv', 'text/csv; charset=windows-1254']) {
    const res = await postScrub(gw, 'type=ARAMA', body, ct);
    t.equal(res.status, 200);
    t.equal(res.type, 'text/plain; charset=utf-8', ct);
    t.ok(res.raw.equals(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([LIST[0], LIST[1], LIST[3]].join('\r\n') + '\r\n')])), `${ct}: BOM + header + allowed rows`);
  }
  // a BOM before a first line that is data: the RET number behind it is still refused
  const res = await postScrub(gw, 'type=ARAMA', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('05550000002\r\n05550000001\r\n')]), 'text/plain');
  t.ok(res.raw.equals(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('05550000001\r\n')])));
});
