// C37 (field-cases-2): a proxy decodes a path once to match its rules and the backend decodes it
// again. `/proxy/netgsm/sms/s%2565nd/get?…` reached the provider unscreened as `/sms/s%65nd/get`
// (which it decodes to its send API); `%D1%95end` and `%C3%A7` were forwarded decoded and came back
// as a false "delivery unknown". Now the path is read once from the raw target, screened in its
// folded form, forwarded encoded once, and refused (400, nothing sent) when it cannot be screened.
import t from 'tap';
import { providerPath, UnsafePath } from '../../src/transports/http-proxy/provider-path.ts';
import { UpstreamClient } from '../../src/transports/http-proxy/upstream-client.ts';
import { parseUpstreams } from '../../src/transports/http-proxy/upstream-config.ts';
import net from 'node:net';
import { makeGateway } from '../helpers/gateway.ts';
import { BRAND, KEY, makeProxy, startStub } from '../transports/harness.ts';
import { closeRawAgent, rawRequest } from '../transports/raw-http.ts';

t.teardown(closeRawAgent);
const RET = '5550000002';
const H = { 'content-type': 'application/json', 'x-iys-gate-key': KEY, authorization: 'Basic dTpw' };
const QUERY = `?usercode=u&password=p&gsmno=${RET}&message=Kampanya&msgheader=FIRMA`;

async function setup(t: { teardown(fn: () => unknown): void }) {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [{ name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND, passThroughPaths: ['/rapor/çağrı'] }], { listen: true });
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }, { recipient: '+905550000002', status: 'RET' }]);
  return { stub, gw };
}

t.test('trigger: a double-encoded send path is refused before anything is sent', async (t) => {
  const { stub, gw } = await setup(t);
  const r = await rawRequest(gw.url, 'GET', `/proxy/netgsm/sms/s%2565nd/get${QUERY}`, H);
  t.equal(r.status, 400);
  t.match(JSON.parse(r.body), { code: 'GW_ERR_UPSTREAM_UNREADABLE', field: 'path', message: /encoded twice/ });
  t.equal(stub.requests.length, 0, 'the provider received nothing');
});

t.test('trigger: %D1%95end and %C3%A7 get a coded 400 or are forwarded encoded, never a delivery unknown', async (t) => {
  const { stub, gw } = await setup(t);
  const dze = await rawRequest(gw.url, 'GET', `/proxy/netgsm/sms/%D1%95end/get${QUERY}`, H);
  t.equal(dze.status, 400, 'a look-alike letter: cannot be told from send, refused');
  t.match(JSON.parse(dze.body), { code: 'GW_ERR_UPSTREAM_UNREADABLE', field: 'path' });
  const c = await rawRequest(gw.url, 'GET', `/proxy/netgsm/sms/%C3%A7/get${QUERY}`, H);
  t.equal(c.status, 400);
  t.equal(stub.requests.length, 0);
  // a configured non-ASCII read-only path goes out encoded once, and its answer comes back
  const ok = await rawRequest(gw.url, 'GET', '/proxy/netgsm/rapor/%C3%A7a%C4%9Fr%C4%B1?gun=1', H);
  t.equal(ok.status, 200);
  t.equal(stub.requests[0]!.url, '/rapor/%C3%A7a%C4%9Fr%C4%B1?gun=1', 'the provider gets the path correctly encoded');
});

t.test('variants the provider would read as its send API are screened, and forwarded as screened', async (t) => {
  const { stub, gw } = await setup(t);
  const body = JSON.stringify({ msgheader: 'F', iysfilter: '11', messages: [{ msg: 'Kampanya', no: '5550000001' }, { msg: 'Kampanya', no: RET }] });
  const screened = [
    '/sms/rest/v2/s%65nd', '/sms/rest/v2/%73%65%6E%64', '/sms/rest%2Fv2/send', '/sms/rest%2fv2%2Fsend', '/sms\\rest\\v2\\send', '/sms/rest/v2%5Csend',
    '/sms/rest/v2/send/', '/sms/rest/v2/send;jsessionid=1', '/sms/rest/v2;x=1/send', '/sms/rest/v2/x/..;/send', '/sms/rest/v2/x/%2e%2e/send',
    '/SMS/Rest/V2/SEND', '/sms/rest/v2/send.', '/sms/rest/v2/send%20', '/sms//rest/./v2//send//', '/sms/rest/v2/%EF%BD%93end',
  ];
  for (const p of screened) {
    const before = stub.requests.length;
    const r = await rawRequest(gw.url, 'POST', `/proxy/netgsm${p}`, H, body);
    t.equal(r.status, 200, p);
    t.equal(r.headers['x-iys-gate-counts'], 'received=2, forwarded=1, removed=1', `${p}: screened`);
    const got = stub.requests[before]!;
    t.notOk(got.body.toString().includes(RET), `${p}: the RET number never reaches the provider`);
    t.notMatch(got.url, /%25|\/\/|\/\.\.?(\/|$)|;|\\/, `${p}: forwarded once-encoded and normalised (${got.url})`);
  }
});

t.test('variants that cannot be screened are refused with a coded 400, nothing sent', async (t) => {
  const { stub, gw } = await setup(t);
  const body = JSON.stringify({ msgheader: 'F', iysfilter: '11', messages: [{ msg: 'Kampanya', no: RET }] });
  const refused: Array<[string, string]> = [
    ['POST', '/sms/rest/v2/s%2565nd'], ['POST', '/sms/rest/v2%252Fsend'], ['POST', '/sms/rest/v2/%25%37%33end'], ['GET', `/sms/send%252Fget${QUERY}`],
    ['POST', '/sms/rest/v2/%C1%B3end'], ['POST', '/sms/rest/v2/%C0%AFsend'], ['POST', '/sms/rest/v2/send%00'], ['POST', '/%2e%2e/sms/rest/v2/send'],
    ['POST', '/sms/rest/v2/s%D0%B5nd'], ['GET', `/sms/%D1%95end/get${QUERY}`], ['POST', '/sms/rest/v2/send%EF%BC%8F'], ['GET', `/sms/send/get#x${QUERY}`],
    ['POST', '/sms/rest/v2/%zzsend'], ['GET', `/sms/s%2565nd/get${QUERY.replace('?', '?%2565=1&')}`],
  ];
  for (const [method, p] of refused) {
    const r = await rawRequest(gw.url, method, `/proxy/netgsm${p}`, H, method === 'POST' ? body : undefined);
    t.equal(r.status, 400, `${method} ${p}`);
    t.match(JSON.parse(r.body).code, /^GW_ERR_(UPSTREAM_UNREADABLE|BAD_REQUEST)$/, `${method} ${p}: coded`);
  }
  t.equal(stub.requests.length, 0, 'none reached the provider');
});

t.test('providerPath: key screened, wire forwarded', async (t) => {
  t.same(providerPath('/sms/s%65nd/get'), { key: '/sms/send/get', ascii: true, wire: '/sms/send/get' });
  t.same(providerPath('/A%2fB\\c;x/./d/'), { key: '/a/b/c/d', ascii: true, wire: '/A/B/c/d/' });
  t.same(providerPath('/rapor/%C3%A7a%C4%9Fr%C4%B1'), { key: '/rapor/çağrı', ascii: false, wire: '/rapor/%C3%A7a%C4%9Fr%C4%B1' });
  t.same(providerPath('/a%20b/x%3Fy'), { key: '/a b/x?y', ascii: false, wire: '/a%20b/x%3Fy' });
  t.equal(providerPath('').wire, '/');
  for (const bad of ['/s%2565nd', '/%C0%AF', '/a%00', '/../x', '/x#y', '/%zz', '/é']) t.throws(() => providerPath(bad), UnsafePath, bad);
});

t.test('an upstream call undici refuses before sending is "not sent", never "delivery unknown"', async (t) => {
  const client = new UpstreamClient(parseUpstreams([{ name: 'n', adapter: 'netgsm', url: 'http://127.0.0.1:9', brandCode: BRAND }])[0]!);
  t.teardown(() => client.close());
  const err = await client.request('GET', '/sms/\u0455end', {}, null).then(() => null, (e: unknown) => e as { code: string });
  t.equal(err?.code, 'GW_ERR_UPSTREAM_UNAVAILABLE');
  t.equal(UpstreamClient.deliveryUnknown(err as never), false);
});

t.test('variant: a header that makes some servers act on another path or method is never forwarded', async (t) => {
  const { stub, gw } = await setup(t);
  const r = await rawRequest(gw.url, 'GET', '/proxy/netgsm/sms/rest/v2/msgheader', {
    ...H, 'x-original-url': `/sms/send/get${QUERY}`, 'x-rewrite-url': `/sms/send/get${QUERY}`, 'x-http-method-override': 'POST', 'x-forwarded-prefix': '/sms/send',
  });
  t.equal(r.status, 200, 'the read itself passes');
  const got = stub.requests[0]!;
  t.equal(got.url, '/sms/rest/v2/msgheader');
  for (const h of ['x-original-url', 'x-rewrite-url', 'x-http-method-override', 'x-forwarded-prefix']) t.notOk(got.headers[h], `${h} not forwarded`);
  t.equal(got.headers.authorization, H.authorization, 'other headers still pass');
});

t.test('the whole app: raw (unencoded) UTF-8 bytes and undecodable paths get a coded 400, nothing sent', async (t) => {
  const stub = await startStub(t);
  const gw = await makeGateway(t, { upstreams: [{ name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND, gatewayAuth: 'none' }] });
  const base = await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const port = Number(new URL(base).port);
  const raw = (target: string) => new Promise<string>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.from(`GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, 'latin1')));
    let d = '';
    s.setTimeout(5_000, () => s.destroy(new Error('timeout')));
    s.on('data', (c: Buffer) => { d += c.toString('latin1'); });
    s.on('end', () => resolve(d));
    s.on('error', reject);
  });
  for (const target of [`/proxy/netgsm/sms/\xc3\xa7/get${QUERY}`, `/proxy/netgsm/sms/s\xd1\x95nd/get${QUERY}`, `/proxy/netgsm/sms/%zz/get${QUERY}`, `/proxy/netgsm/sms/rest/v2/%C0%AFsend`]) {
    const answer = await raw(target);
    t.match(answer, /^HTTP\/1\.1 400 /, JSON.stringify(target));
    t.match(answer, /"code":"GW_ERR_BAD_REQUEST"/, `${JSON.stringify(target)}: coded`);
  }
  t.equal(stub.requests.length, 0);
});
