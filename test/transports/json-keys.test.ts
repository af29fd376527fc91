import t from 'tap';
import { hasDuplicateKeys } from '../../src/transports/http-proxy/json-keys.ts';
import { BRAND, KEY, makeProxy, startStub } from './harness.ts';

t.test('duplicate keys are found at any depth, escapes decoded; values and arrays are not keys', async (t) => {
  const cases: Array<[string, boolean]> = [
    ['{"iysfilter":"11","iysfilter":"0"}', true],
    ['{"iysfilter":"11","\\u0069ysfilter":"0"}', true],
    ['{"a":{"b":1,"b":2}}', true],
    ['[{"a":1},{"a":2}]', false],
    ['[{"a":1,"a":2}]', true],
    ['{"a":"a","b":["a","a"],"c":{"a":"b"}}', false],
    ['{"a\\"b":1,"a\\"b":2}', true],
    ['{"x":"}{,\\"x\\":","y":1}', false],
    ['"just a string"', false],
    ['{}', false],
  ];
  for (const [json, dup] of cases) {
    JSON.parse(json);
    t.equal(hasDuplicateKeys(json), dup, json);
  }
});

t.test('the proxy refuses a body that names a key twice: screened one way, read another by the provider', async (t) => {
  const stub = await startStub(t);
  const gw = await makeProxy(t, [{ name: 'netgsm', adapter: 'netgsm', url: stub.url, brandCode: BRAND }]);
  const res = await gw.app.inject({ method: 'POST', url: '/proxy/netgsm/sms/rest/v2/send', headers: { 'content-type': 'application/json', 'x-iys-gate-key': KEY },
    payload: '{"msgheader":"F","iysfilter":"11","iysfilter":"0","messages":[{"msg":"Kampanya","no":"5550000002"}]}' });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { code: 'GW_ERR_UPSTREAM_UNREADABLE', field: 'body' });
  t.equal(stub.requests.length, 0, 'nothing forwarded');
});
