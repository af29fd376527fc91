/**
 * A real ARI client nobody here wrote (`ari-client`, Asterisk's Node.js library) pointed at the
 * gateway's `asterisk-ari` upstream (served at the root `/ari/*`, `ariRoot`), in front of a stub
 * ARI that serves what the client reads at connect (api-docs, Swagger 1.1, with Asterisk's own
 * absolute `basePath`). The gateway points the docs back at itself, so the client's originate goes
 * through the screen: an allowed number reaches the stub, a refused one never does.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { BRAND, makeProxy, startStub, type Received } from './harness.ts';
import type { ServerResponse } from 'node:http';

const require = createRequire(import.meta.url);
const ari = require('ari-client') as { connect(url: string, user: string, pass: string): Promise<AriClient> };
interface AriClient { channels: { originate(p: Record<string, unknown>): Promise<{ id: string }> } }

const ONAY = '905550000001';
const RET = '905550000002';

function stubAri(base: () => string) {
  const doc = (extra: object) => JSON.stringify({ apiVersion: '8.0.0', swaggerVersion: '1.1', basePath: `${base()}/ari`, ...extra });
  return (r: Received, res: ServerResponse) => {
    res.setHeader('content-type', 'application/json');
    const path = r.url.split('?')[0];
    if (r.headers.authorization !== 'Basic ' + Buffer.from('ariuser:aripass').toString('base64')) { res.statusCode = 401; res.end('{"message":"Authentication required"}'); return; }
    if (path === '/ari/api-docs/resources.json') { res.end(doc({ apis: [{ path: '/api-docs/channels.{format}', description: 'Channel resources' }] })); return; }
    if (path === '/ari/api-docs/channels.json') {
      res.end(doc({
        resourcePath: '/api-docs/channels.{format}',
        apis: [{
          path: '/channels', description: 'Active channels',
          operations: [{
            httpMethod: 'POST', summary: 'Create a new channel (originate).', nickname: 'originate', responseClass: 'Channel',
            parameters: ['endpoint', 'extension', 'context', 'app', 'callerId'].map((name) => ({ name, paramType: 'query', required: name === 'endpoint', allowMultiple: false, dataType: 'string' }))
              .concat([{ name: 'priority', paramType: 'query', required: false, allowMultiple: false, dataType: 'long' }]),
          }],
        }],
        models: { Channel: { id: 'Channel', properties: { id: { type: 'string', required: true }, name: { type: 'string', required: true }, state: { type: 'string', required: true } } } },
      }));
      return;
    }
    if (r.method === 'POST' && path === '/ari/channels') { res.end(JSON.stringify({ id: '1700000000.7', name: 'PJSIP/trunk-00000001', state: 'Down' })); return; }
    res.statusCode = 404; res.end('{"message":"Resource not found"}');
  };
}

t.test('ari-client through the gateway: allowed originate reaches Asterisk, refused one never does', async (t) => {
  let stubUrl = '';
  const stub = await startStub(t, stubAri(() => stubUrl));
  stubUrl = stub.url;
  const gw = await makeProxy(t, [{ name: 'pbx', adapter: 'asterisk-ari', url: stub.url, brandCode: BRAND, ariRoot: true, gatewayAuth: 'provider', providerUsers: ['ariuser'] }], { listen: true });
  await gw.seed([{ recipient: '+' + ONAY, status: 'ONAY', type: 'ARAMA' }, { recipient: '+' + RET, status: 'RET', type: 'ARAMA' }]);
  const client = await ari.connect(gw.url, 'ariuser', 'aripass');
  const docs = stub.requests.filter((r) => r.url.startsWith('/ari/api-docs/'));
  t.ok(docs.length >= 2, 'the client read the api-docs through the gateway');

  const ch = await client.channels.originate({ endpoint: `PJSIP/trunk/${ONAY}`, extension: '100', context: 'default', priority: 1 });
  t.equal(ch.id, '1700000000.7');
  const dialed = stub.requests.filter((r) => r.method === 'POST');
  t.equal(dialed.length, 1);
  t.match(decodeURIComponent(dialed[0]!.url), new RegExp(`^/ari/channels\\?.*endpoint=PJSIP/trunk/${ONAY}`));

  const err = await client.channels.originate({ endpoint: `PJSIP/trunk/${RET}`, extension: '100', context: 'default' }).then(() => null, (e: Error) => e);
  t.ok(err, 'the refused originate rejects in the client');
  t.match(String(err?.message), /GW_ERR_UPSTREAM_ALL_BLOCKED/, 'with the gateway code in ARI’s error message');
  t.equal(stub.requests.filter((r) => r.method === 'POST').length, 1, 'the refused call never reached Asterisk');

  // the client never learns Asterisk's own address: the docs name the gateway
  const auth = { authorization: 'Basic ' + Buffer.from('ariuser:aripass').toString('base64') };
  for (const doc of ['resources', 'channels']) {
    const d = await (await fetch(`${gw.url}/ari/api-docs/${doc}.json`, { headers: auth })).json() as { basePath: string };
    t.equal(d.basePath, `${gw.url}/ari`, `${doc}.json basePath points at the gateway`);
  }
  const wrong = await fetch(`${gw.url}/ari/api-docs/resources.json`, { headers: { authorization: 'Basic ' + Buffer.from('intruder:x').toString('base64') } });
  t.equal(wrong.status, 401, 'a user the upstream does not allow is refused at the gateway');
});
