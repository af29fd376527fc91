// C41: a first line was taken for a header when its first field held letters. `0555 000 00 04
// (cep)` (a RET number for ARAMA) came back as a "header"; so did `Tel:05550000004` and
// `05550000004 Ayşe Çelik`; a dialer extracting digits then calls a RET number. Now `header=auto`
// (default) treats a line with a phone-like digit run or an `@` as data; `header=true|false`
// (query, CLI `--header`) decide explicitly, and `true` never lets a recipient line through
// unchecked.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MemoryStore } from '../../src/mirror/memory-store.ts';
import { looksLikeData } from '../../src/transports/scrub/scrub-lines.ts';
import { BRAND, postScrub, scrubGateway } from '../helpers/scrub.ts';

t.test('C41 trigger and the reported variants: a RET number on line 1 is data, and refused', async (t) => {
  const gw = await scrubGateway(t);
  for (const first of ['0555 000 00 04 (cep)', 'Tel:05550000004', '05550000004 Ayşe Çelik', '+90 (555) 000-00-04 iş', '0555.000.00.04']) {
    const res = await postScrub(gw, 'type=ARAMA', `${first}\n05550000001\n05550000003\n`, 'text/plain');
    t.equal(res.status, 200);
    t.equal(res.text, '05550000001\n05550000003\n', `${first}: not echoed as a header`);
    const ann = await postScrub(gw, 'type=ARAMA&annotate=true', `${first}\n05550000001\n`, 'text/plain');
    t.match(ann.text.split('\n')[0], /^.*,BLOCK,(CONSENT_RET|INVALID_RECIPIENT)$/, `${first}: decided`);
  }
});

t.test('C41 variants: real headers stay headers; an e-mail first line is data', async (t) => {
  const gw = await scrubGateway(t);
  const cases: Array<[string, string, string, string]> = [
    ['ARAMA', 'telefon,ad\n05550000002,Ali\n05550000001,Ayşe\n', 'telefon,ad\n05550000001,Ayşe\n', 'plain header'],
    ['ARAMA', 'Telefon No (10 hane);Ad\n05550000001;Ayşe\n', 'Telefon No (10 hane);Ad\n05550000001;Ayşe\n', 'header with a short number in it'],
    ['EPOSTA', 'ali@example.com,Ali\nayse@example.com,Ayşe\n', 'ayse@example.com,Ayşe\n', 'first line an e-mail (RET): data'],
    ['EPOSTA', 'e-posta,ad\nali@example.com,Ali\nayse@example.com,Ayşe\n', 'e-posta,ad\nayse@example.com,Ayşe\n', 'e-mail header'],
    ['EPOSTA', 'Ali <ali@example.com>\nayse@example.com\n', 'ayse@example.com\n', '`@` anywhere on the line: data'],
  ];
  for (const [type, body, want, what] of cases) t.equal((await postScrub(gw, `type=${type}`, body)).text, want, what);
  t.equal(looksLikeData('telefon 2024', 'telefon 2024', 'ARAMA'), false);
  t.equal(looksLikeData('０５５５ ０００ ００ ０４', '０５５５ ０００ ００ ０４', 'ARAMA'), true, 'full-width digits are digits');
});

t.test('C41: header=true|false', async (t) => {
  const gw = await scrubGateway(t);
  // a header auto would read as data (a date in it): header=true keeps it
  const dated = 'Kampanya 2026-01-15 listesi\n05550000001\n05550000002\n';
  t.equal((await postScrub(gw, 'type=ARAMA', dated, 'text/plain')).text, '05550000001\n', 'auto: the dated line is data (blocked as invalid)');
  t.equal((await postScrub(gw, 'type=ARAMA&header=true', dated, 'text/plain')).text, 'Kampanya 2026-01-15 listesi\n05550000001\n');
  // header=true over a first line that is a recipient: it is still decided, never echoed unchecked
  const ret = await postScrub(gw, 'type=ARAMA&header=true&annotate=true', '05550000004\n05550000001\n', 'text/plain');
  t.equal(ret.text, '05550000004,BLOCK,CONSENT_RET\n05550000001,ALLOW,CONSENT_ONAY\n');
  // header=false: a word-only first line is data (blocked as invalid)
  t.equal((await postScrub(gw, 'type=ARAMA&header=false&annotate=true', 'telefon\n05550000001\n', 'text/plain')).text,
    'telefon,BLOCK,INVALID_RECIPIENT\n05550000001,ALLOW,CONSENT_ONAY\n');
  const bad = await postScrub(gw, 'type=ARAMA&header=maybe', 'x\n');
  t.equal(bad.status, 400);
  t.equal(bad.json().code, 'GW_ERR_VALIDATION');
});

t.test('C41 via the CLI: iys-gate scrub FILE --header auto|true, with a 1254 `;` CRLF file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-scrub-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new MemoryStore({ dataDir: join(dir, 'mirror') });
  await store.open();
  await store.apply(['+905550000001', '+905550000004'].map((recipient, i) => ({
    brandCode: BRAND, recipientType: 'BIREYSEL' as const, type: 'ARAMA' as const, recipient, status: i === 0 ? 'ONAY' as const : 'RET' as const,
    source: 'HS_WEB' as const, consentDate: '2026-01-05 10:00:00', creationDate: '2026-01-05 10:00:05', transactionId: null, retailerAccess: null,
  })));
  await store.close();
  const file = join(dir, 'liste.csv');
  // `0555 000 00 04 (cep);Gülşen` in windows-1254 (ü = FC, ş = FE), CRLF
  const line1 = Buffer.from([...Buffer.from('0555 000 00 04 (cep);G'), 0xfc, 0x6c, 0xfe, 0x65, 0x6e, 0x0d, 0x0a]);
  const line2 = Buffer.from([...Buffer.from('05550000001;Ay'), 0xfe, 0x65, 0x0d, 0x0a]);
  writeFileSync(file, Buffer.concat([line1, line2]));
  const run = promisify(execFile);
  const root = new URL('../..', import.meta.url).pathname;
  const env = { ...process.env, IYS_GATE_DATA_DIR: dir, IYS_GATE_STORE: 'memory' }; // the store seeded above
  const args = ['bin/iys-gate.js', 'scrub', file, '--brand-code', String(BRAND), '--type', 'ARAMA', '--charset', 'windows-1254', '--no-progress'];
  const auto = await run(process.execPath, args, { cwd: root, env, encoding: 'buffer' });
  t.ok(auto.stdout.equals(line2), 'auto: the RET line 1 is refused; line 2 comes back in its 1254 bytes with CRLF');
  t.same(JSON.parse(auto.stderr.toString()), { lines: 2, allowed: 1, blocked: 1, header: false });
  const forced = await run(process.execPath, [...args, '--header', 'true'], { cwd: root, env, encoding: 'buffer' });
  t.ok(forced.stdout.equals(line2), '--header true: a first line whose first field is a RET number is still refused');
  const bad = await run(process.execPath, [...args.slice(0, -3), '--charset', 'utf-16', '--no-progress'], { cwd: root, env }).then(() => null, (e: { code: number; stderr: string }) => e);
  t.equal(bad?.code, 1);
  t.match(bad?.stderr, /GW_ERR_UNSUPPORTED_CHARSET: Unsupported charset utf-16; accepted: utf-8, windows-1254, iso-8859-9/);
});
