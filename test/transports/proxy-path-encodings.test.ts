/**
 * Property test of the proxy's path reading (C37): encodings of every known send path of every
 * adapter (ADAPTERS[*].sendPaths) and of the providers' other send APIs are sent over a real
 * socket, byte for byte, against a real stub upstream. Each must be either screened — the stub
 * gets the body without the RET recipient, at a once-encoded path that reads as the same send
 * path — or refused with a coded 4xx before anything is sent. Never unscreened, never a 5xx.
 * Every single-point encoding is tried, plus seeded random combinations (reproducible: SEED).
 */
import t from 'tap';
import { ADAPTERS } from '../../src/transports/http-proxy/adapters.ts';
import { providerPath } from '../../src/transports/http-proxy/provider-path.ts';
import { ADAPTER_NAMES, type AdapterName } from '../../src/transports/http-proxy/types.ts';
import { BRAND, KEY, makeProxy, startStub } from './harness.ts';
import { closeRawAgent, rawRequest } from './raw-http.ts';

t.teardown(closeRawAgent);
const SEED = 0x1c37;
const RANDOM_PER_PATH = 12;

/** A send body per adapter holding one ONAY and one RET recipient, and the RET marker. */
const SEND: Record<AdapterName, { body: unknown; ret: string }> = {
  netgsm: { ret: '5550000002', body: { msgheader: 'F', iysfilter: '11', messages: [{ msg: 'Kampanya', no: '5550000001' }, { msg: 'Kampanya', no: '5550000002' }] } },
  iletimerkezi: { ret: '5550000002', body: { request: { authentication: { key: 'K', hash: 'H' }, order: { sender: 'F', iys: '1', iysList: 'BIREYSEL', message: { text: 'Kampanya', receipents: { number: ['5550000001', '5550000002'] } } } } } },
  verimor: { ret: '5550000002', body: { username: 'u', password: 'p', source_addr: 'F', is_commercial: true, messages: [{ msg: 'Kampanya', dest: '905550000001,905550000002' }] } },
  sendgrid: { ret: 'b@example.com', body: { personalizations: [{ to: [{ email: 'a@example.com' }, { email: 'b@example.com' }] }], from: { email: 's@example.com' }, subject: 'Kampanya', content: [{ type: 'text/plain', value: 'Kampanya' }] } },
  webhook: { ret: '5550000002', body: { type: 'MESAJ', messageType: 'TICARI', recipients: ['+905550000001', '+905550000002'], message: 'Kampanya' } },
  'verimor-switch': { ret: '5550000002', body: { key: 'K', call_type: 'ivr', name: 'C', is_commercial: true, iys_recipient_type: 'BIREYSEL', phone_list: [{ phone: '05550000001' }, { phone: '05550000002' }] } },
  'netgsm-santral': { ret: '5550000002', body: { header: { username: 'u', password: 'p' }, body: { event: 'addautocall', data: { list_name: 'L', filter: '11', numbers: [{ number: '5550000001', name: 'a' }, { number: '5550000002', name: 'b' }] } } } },
  // one endpoint per originate: the RET one is screened and refused whole (422 all blocked)
  'asterisk-ari': { ret: '5550000002', body: { endpoint: 'PJSIP/trunk/905550000002', extension: '100', context: 'default' } },
};

/**
 * Netgsm OTP: informational (a RET number may receive it), so its probe is an invalid number: a
 * screened OTP is answered 422 all blocked and nothing reaches the stub.
 */
const OTP = { path: '/sms/rest/v2/otp', body: { msgheader: 'F', msg: 'Kodunuz 1234', no: '12' } };

/** The providers' send APIs the adapters do not read (GET with a query, form, XML): always refused. */
const OTHER_SENDS: Array<[AdapterName, string, string, string | undefined]> = [
  ['netgsm', 'GET', '/sms/send/get?usercode=u&password=p&gsmno=5550000002&message=Kampanya&msgheader=F', undefined],
  ['netgsm', 'POST', '/sms/send/get', 'usercode=u&password=p&gsmno=5550000002&message=Kampanya'],
  ['netgsm', 'POST', '/sms/send/xml', '<mainbody><body><no>5550000002</no></body></mainbody>'],
  ['netgsm', 'GET', '/sms/send/otp?usercode=u&no=5550000002&msg=1234', undefined],
  ['iletimerkezi', 'GET', '/v1/send-sms/get?key=K&hash=H&receipents=5550000002&text=Kampanya', undefined],
  ['verimor', 'GET', '/v2/send?username=u&password=p&dest=905550000002&msg=Kampanya', undefined],
  ['sendgrid', 'POST', '/api/mail.send.json', 'to=b@example.com&subject=Kampanya'],
  ['webhook', 'GET', '/hooks/sms?recipients=5550000002&message=Kampanya', undefined],
];

function prng(seed: number) {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let x = a; x = Math.imul(x ^ (x >>> 15), x | 1); x ^= x + Math.imul(x ^ (x >>> 7), x | 61); return ((x ^ (x >>> 14)) >>> 0) / 4294967296; };
}
const hex = (n: number, lower = false) => { const h = '%' + n.toString(16).toUpperCase().padStart(2, '0'); return lower ? h.toLowerCase() : h; };
const utf8Pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => hex(b)).join('');
const HOMOGLYPH: Record<string, string> = { a: 'а', e: 'е', o: 'о', s: 'ѕ', c: 'с', p: 'р', x: 'х', i: 'і', j: 'ј', m: 'м' };

/** Ways to write one character of a path (index 0 = as is). */
function charForms(c: string): string[] {
  const code = c.charCodeAt(0);
  if (c === '/') return ['/', '//', '/./', '/zz/../', '/zz/..;/', '%2F', '%2f', '\\', '%5C', '%5c', '%252F', ';p=1/', '/%2e/', '/zz/%2e%2e/', '/zz%2F..%2F', '%C0%AF', '%EF%BC%8F'];
  const forms = [c, hex(code), hex(code, true), '%25' + hex(code).slice(1), '%2525' + hex(code).slice(1), hex(0xc0 | (code >> 6)) + hex(0x80 | (code & 0x3f)) /* overlong UTF-8 */];
  if (/[a-z]/i.test(c)) {
    forms.push(c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase(), utf8Pct(String.fromCharCode(code - 0x20 + 0xff00)) /* fullwidth */);
    const h = HOMOGLYPH[c.toLowerCase()];
    if (h) forms.push(utf8Pct(h));
  }
  return forms;
}
const ENDINGS = ['', '/', '/.', '//', ';jsessionid=1', '%3Bx', '%20', '.', '%2F', '%00', '%2500', '/..', '#x'];

/** Every single-point variant of `path` (one character or the ending written another way), then seeded random combinations. */
function variants(path: string, rnd: () => number): string[] {
  const chars = [...path];
  const out = new Set<string>();
  chars.forEach((c, i) => {
    if (i === 0) return; // the `/` after /proxy/<name> belongs to the route
    for (const f of charForms(c).slice(1)) out.add(chars.slice(0, i).join('') + f + chars.slice(i + 1).join(''));
  });
  for (const e of ENDINGS.slice(1)) out.add(path + e);
  for (let k = 0; k < RANDOM_PER_PATH; k++) {
    let s = '/';
    for (let i = 1; i < chars.length; i++) { const f = charForms(chars[i]!); s += rnd() < 0.3 ? f[Math.floor(rnd() * f.length)]! : chars[i]!; }
    out.add(s + ENDINGS[Math.floor(rnd() * ENDINGS.length)]!);
  }
  return [...out];
}

t.test('no encoding of a send path reaches the provider unscreened; unscreenable ones are refused unsent', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, ADAPTER_NAMES.map((a) => ({ name: `a-${a}`, adapter: a, url: stub.url, brandCode: BRAND })), { listen: true });
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }, { recipient: '+905550000002', status: 'RET' },
    { recipient: 'a@example.com', status: 'ONAY', type: 'EPOSTA' }, { recipient: 'b@example.com', status: 'RET', type: 'EPOSTA' },
    { recipient: '+905550000001', status: 'ONAY', type: 'ARAMA' }, { recipient: '+905550000002', status: 'RET', type: 'ARAMA' }]);
  const rnd = prng(SEED);
  const H = { 'content-type': 'application/json', 'x-iys-gate-key': KEY };
  const tally = { screened: 0, refused: 0, elsewhere: 0 };
  const failures: string[] = [];
  // requests run a few at a time; each carries a probe id (forwarded like any header) to find what the stub got
  let probe = 0;
  const send = async (method: string, target: string, headers: Record<string, string>, body: string | undefined) => {
    const id = String(++probe);
    const r = await rawRequest(gw.url, method, target, { ...headers, 'x-probe-id': id }, body);
    return { r, reached: stub.requests.filter((x) => x.headers['x-probe-id'] === id) };
  };
  const check = async (adapter: AdapterName, method: string, path: string, body: string | undefined, send2: boolean) => {
    const { ret } = SEND[adapter];
    const { r, reached } = await send(method, `/proxy/a-${adapter}${path}`, H, body);
    if (r.status >= 500) failures.push(`${method} ${adapter} ${path}: ${r.status} ${r.body.slice(0, 120)}`);
    if (reached.length === 0) {
      const code = (JSON.parse(r.body) as { code?: string }).code ?? '';
      if (code === 'GW_ERR_UPSTREAM_ALL_BLOCKED' && r.headers['x-iys-gate-counts']) { tally.screened++; return; }
      if (!(r.status === 400 && /^GW_ERR_(UPSTREAM_UNREADABLE|BAD_REQUEST)$/.test(code))) failures.push(`${method} ${adapter} ${path}: not sent but answered ${r.status} ${code}`);
      tally.refused++;
      return;
    }
    const got = reached[0]!;
    const [gotPath, gotQuery = ''] = got.url.split('?');
    if (!send2) failures.push(`${method} ${adapter} ${path}: reached the provider as ${got.url} (expected screened and all blocked, or refused)`);
    if (got.body.toString().includes(ret) || decodeURIComponent(gotQuery).includes(ret)) failures.push(`${method} ${adapter} ${path}: RET recipient reached the provider`);
    if (r.headers['x-iys-gate-counts'] !== 'received=2, forwarded=1, removed=1') failures.push(`${method} ${adapter} ${path}: forwarded without screening (${String(r.headers['x-iys-gate-counts'])})`);
    if (decodeURIComponent(gotPath!).includes('%')) failures.push(`${method} ${adapter} ${path}: forwarded with an octet encoded twice (${gotPath})`);
    // forwarded to the send path it was screened as (the variant's own: verimor-switch reads two campaign paths)
    if (adapter !== 'webhook' && providerPath(gotPath!).key !== providerPath(sendPathOf(adapter, path)).key) failures.push(`${method} ${adapter} ${path}: forwarded to ${gotPath}, not the screened path`);
    tally.screened++;
  };
  const variantOf = new Map<string, string>();
  const sendPathOf = (adapter: AdapterName, v: string) => variantOf.get(`${adapter} ${v}`) ?? ADAPTERS[adapter].sendPaths[0]!;
  const jobs: Array<() => Promise<void>> = [];
  for (const adapter of ADAPTER_NAMES) {
    const body = JSON.stringify(SEND[adapter].body);
    for (const sendPath of ADAPTERS[adapter].sendPaths) {
      const otp = sendPath === OTP.path;
      for (const v of variants(sendPath, rnd)) {
        if (!variantOf.has(`${adapter} ${v}`)) variantOf.set(`${adapter} ${v}`, sendPath);
        jobs.push(() => check(adapter, 'POST', v, otp ? JSON.stringify(OTP.body) : body, !otp));
      }
    }
  }
  for (const [adapter, method, target, body] of OTHER_SENDS) {
    const q = target.indexOf('?');
    const [p, query] = q === -1 ? [target, ''] : [target.slice(0, q), target.slice(q)];
    const hdr = body?.startsWith('<') ? 'application/xml' : 'application/x-www-form-urlencoded';
    for (const v of [p, ...variants(p, rnd)]) jobs.push(async () => {
      const { r, reached } = await send(method, `/proxy/a-${adapter}${v}${query}`, { ...H, ...(body ? { 'content-type': hdr } : {}) }, body);
      const got = reached[0];
      // a variant that resolves elsewhere (`/v2/send/..` is `/v2`) may pass as the read it is
      if (got && /send|otp|sms$/.test(providerPath(got.url.split('?')[0]!).key)) failures.push(`${method} ${adapter} ${v}${query}: another send API reached the provider as ${got.url}`);
      else if (got) tally.elsewhere++;
      else if (r.status !== 400) failures.push(`${method} ${adapter} ${v}: not sent but answered ${r.status}`);
      if (!got) tally.refused++;
    });
  }
  const CONCURRENCY = 4;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => { for (let job = jobs.shift(); job; job = jobs.shift()) await job(); }));
  t.same(failures.slice(0, 20), [], `${failures.length} failures`);
  t.ok(tally.screened > 200, `screened variants: ${tally.screened}`);
  t.ok(tally.refused > 500, `refused variants: ${tally.refused}`);
  t.comment(`screened ${tally.screened}, refused unsent ${tally.refused}, resolved to another (read) path ${tally.elsewhere}`);
});
