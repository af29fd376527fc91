/**
 * C26 (field-cases.md): when the proxy re-serialises a body, the client's `content-length` must
 * not be copied: upstream receives exactly `Buffer.byteLength(body)` bytes, no
 * `transfer-encoding`. Real sockets on both sides; the client sends its own Content-Length.
 */
import t from 'tap';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { BRAND, KEY, makeProxy, startStub } from '../transports/harness.ts';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const stub = await startStub(t, (_r, res) => { res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); });
  const gw = await makeProxy(t, [{ name: 'hook', adapter: 'webhook', url: stub.url, brandCode: BRAND }], { listen: true });
  await gw.seed([{ recipient: '+905550000001', status: 'ONAY' }]);
  return { stub, gw };
}

t.test('spaced body with the client\'s Content-Length: 26 → upstream gets the re-serialised bytes and their own length', async (t) => {
  const { stub, gw } = await setup(t);
  // The case's own body: 26 bytes with extra spaces (the webhook shape around it comes from the upstream defaults).
  t.equal(Buffer.byteLength('{ "to" : "+905550000001" }'), 26);
  const raw = '{ "type" : "MESAJ" , "recipients" : [ "+905550000001" , "+905550000002" ] , "message" : "Çağrı: şifre değişti" }';
  const res = await request(`${gw.url}/proxy/hook/`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(raw)), 'x-iys-gate-key': KEY }, body: raw });
  t.equal(res.statusCode, 200);
  t.equal(await res.body.text(), '{"ok":true}');
  const got = stub.requests[0]!;
  const expected = '{"type":"MESAJ","recipients":["+905550000001"],"message":"Çağrı: şifre değişti"}';
  t.equal(got.body.toString('utf8'), expected, 'byte-exact re-serialised body');
  t.equal(got.headers['content-length'], String(Buffer.byteLength(expected)), 'length in bytes (multi-byte Turkish letters), not the client\'s');
  t.not(got.headers['content-length'], String(Buffer.byteLength(raw)));
  t.notOk(got.headers['transfer-encoding']);
});

t.test('chunked client body (no Content-Length) → upstream gets a Content-Length and no Transfer-Encoding', async (t) => {
  const { stub, gw } = await setup(t);
  async function* chunks() { yield '{"type":"MESAJ","recipients":'; yield '["+905550000001","+905550000002"],"message":"x"}'; }
  const res = await request(`${gw.url}/proxy/hook/`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY }, body: Readable.from(chunks()) });
  t.equal(res.statusCode, 200);
  await res.body.dump();
  const got = stub.requests[0]!;
  t.equal(got.body.toString(), '{"type":"MESAJ","recipients":["+905550000001"],"message":"x"}');
  t.equal(got.headers['content-length'], String(got.body.length));
  t.notOk(got.headers['transfer-encoding']);
});

t.test('body forwarded unchanged keeps its exact bytes and length', async (t) => {
  const { stub, gw } = await setup(t);
  const raw = '{ "to" : "ignored", "type":"MESAJ", "recipients":["+905550000001"], "message":"x" }';
  const res = await request(`${gw.url}/proxy/hook/`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY }, body: raw });
  t.equal(res.statusCode, 200);
  await res.body.dump();
  t.equal(stub.requests[0]!.body.toString(), raw);
  t.equal(stub.requests[0]!.headers['content-length'], String(Buffer.byteLength(raw)));
});
