/**
 * Restarted campaigns (issue 19): a campaign restart calls a list the provider stored when the
 * campaign was created, and neither Verimor nor Netgsm can give that list back to re-screen, so
 * a restart is refused unsent (GW_ERR_CAMPAIGN_RESTART_UNSCREENED); stopping or deleting passes.
 * Verimor: `PATCH /ivr_campaigns/{id}` `key=…&status=on|off` (Bulutsantralim-API ivr_campaigns.md,
 * "OTOMATİK ARAMA KAMPANYASI DURDURMA"), `DELETE /ivr_campaigns/{id}?key=…`. Netgsm:
 * `autocallservice` event `updateliststatus` `data.status` 1 (start) / 2 (stop) (netsantral README).
 */
import t from 'tap';
import { BRAND, KEY, makeProxy, startStub } from './harness.ts';

const H = { 'x-iys-gate-key': KEY };
const FORM = { ...H, 'content-type': 'application/x-www-form-urlencoded' };
const J = { ...H, 'content-type': 'application/json' };

async function setup(t: Parameters<typeof startStub>[0], upstreams: unknown[]) {
  const stub = await startStub(t, (_r, res) => { res.setHeader('content-type', 'text/plain'); res.end('OK'); });
  const gw = await makeProxy(t, upstreams.map((u) => ({ url: stub.url, brandCode: BRAND, ...(u as object) })));
  return { stub, gw };
}

t.test('verimor-switch: a campaign restart (status=on) is refused unsent; stop and delete pass byte for byte', async (t) => {
  const { stub, gw } = await setup(t, [{ name: 'vs', adapter: 'verimor-switch' }, { name: 'vsp', adapter: 'verimor-switch', errorFormat: 'provider' },
    { name: 'vsa', adapter: 'verimor-switch', gatewayAuth: 'provider', providerUsers: ['K12345678-1234'] }]);
  const stop = 'key=K12345678-1234&status=off';
  const s = await gw.app.inject({ method: 'PATCH', url: '/proxy/vs/ivr_campaigns/112', headers: FORM, payload: stop });
  t.equal(s.statusCode, 200, 'a stop passes');
  t.equal(stub.requests[0]!.method, 'PATCH');
  t.equal(stub.requests[0]!.url, '/ivr_campaigns/112');
  t.equal(stub.requests[0]!.body.toString(), stop, 'forwarded byte for byte');

  const on = await gw.app.inject({ method: 'PATCH', url: '/proxy/vs/ivr_campaigns/112', headers: FORM, payload: 'key=K12345678-1234&status=on' });
  t.equal(on.statusCode, 422);
  t.equal(on.json().code, 'GW_ERR_CAMPAIGN_RESTART_UNSCREENED');
  t.match(on.json().message, /ivr_campaigns\/112 status=on/);
  for (const [url, payload, headers] of [
    ['/proxy/vs/ivr_campaigns/112?status=on', 'key=K', FORM], // in the query
    ['/proxy/vs/ivr_campaigns/112.json', JSON.stringify({ key: 'K', status: 'ON' }), J], // JSON body, any case
  ] as const) {
    const r = await gw.app.inject({ method: 'PATCH', url, headers, payload });
    t.equal(r.json().code, 'GW_ERR_CAMPAIGN_RESTART_UNSCREENED', `restart refused: ${url} ${payload}`);
  }
  const shaped = await gw.app.inject({ method: 'PATCH', url: '/proxy/vsp/ivr_campaigns/112', headers: FORM, payload: 'key=K&status=on' });
  t.equal(shaped.statusCode, 400, "Verimor's own error status");
  t.match(shaped.body, /^GW_ERR_CAMPAIGN_RESTART_UNSCREENED: /);
  // status read two ways with different values, missing, or unknown: refused unsent
  for (const [url, payload] of [
    ['/proxy/vs/ivr_campaigns/112?status=off', 'key=K&status=on'],
    ['/proxy/vs/ivr_campaigns/112', 'key=K&status=off&status=on'],
    ['/proxy/vs/ivr_campaigns/112', 'key=K'],
    ['/proxy/vs/ivr_campaigns/112', 'key=K&status=resume'],
  ] as const) {
    const r = await gw.app.inject({ method: 'PATCH', url, headers: FORM, payload });
    t.equal(r.statusCode, 400, `${url} ${payload}`);
    t.equal(r.json().code, 'GW_ERR_UPSTREAM_UNREADABLE');
  }
  const withList = await gw.app.inject({ method: 'PATCH', url: '/proxy/vs/ivr_campaigns/112', headers: J, payload: { key: 'K', status: 'off', phone_list: [{ phone: '905550000002' }] } });
  t.equal(withList.statusCode, 400, 'a PATCH carrying a phone_list is not passed as a stop');
  t.equal(stub.requests.length, 1, 'no restart reached Verimor');

  const del = await gw.app.inject({ method: 'DELETE', url: '/proxy/vs/ivr_campaigns/112?key=K12345678-1234', headers: H });
  t.equal(del.statusCode, 200, 'a delete passes');
  t.equal(stub.requests[1]!.method, 'DELETE');
  // gatewayAuth provider: the key in the form body is the provider user
  const owned = await gw.app.inject({ method: 'PATCH', url: '/proxy/vsa/ivr_campaigns/112', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: stop });
  t.equal(owned.statusCode, 200, 'a stop with an allowed key in the form body');
  const foreign = await gw.app.inject({ method: 'PATCH', url: '/proxy/vsa/ivr_campaigns/112', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'key=OTHER&status=off' });
  t.equal(foreign.statusCode, 401, 'another account is refused');
  t.equal(stub.requests.length, 3);
});

t.test('netgsm-santral: updateliststatus 1 (start) refused unsent; 2 (stop) passes', async (t) => {
  const { stub, gw } = await setup(t, [{ name: 'ns', adapter: 'netgsm-santral' }, { name: 'nsp', adapter: 'netgsm-santral', errorFormat: 'provider' }]);
  const header = { username: '8501234567', password: 'p' };
  const status = (s: unknown) => ({ header, body: { event: 'updateliststatus', list_id: '12430', data: { status: s } } });
  const stop = await gw.app.inject({ method: 'POST', url: '/proxy/ns/autocallservice', headers: J, payload: status('2') });
  t.equal(stop.statusCode, 200);
  t.equal(stub.requests[0]!.body.toString(), JSON.stringify(status('2')), 'the stop forwarded byte for byte');
  for (const s of ['1', 1, ' 1']) {
    const r = await gw.app.inject({ method: 'POST', url: '/proxy/ns/autocallservice', headers: J, payload: status(s) });
    t.equal(r.statusCode, 422, `status ${JSON.stringify(s)}`);
    t.equal(r.json().code, 'GW_ERR_CAMPAIGN_RESTART_UNSCREENED');
  }
  const shaped = await gw.app.inject({ method: 'POST', url: '/proxy/nsp/autocallservice', headers: J, payload: status('1') });
  t.equal(shaped.statusCode, 400);
  t.equal(shaped.json().status, 'error');
  t.match(shaped.json().message, /^GW_ERR_CAMPAIGN_RESTART_UNSCREENED/);
  for (const s of [undefined, '3', 'on']) {
    const r = await gw.app.inject({ method: 'POST', url: '/proxy/ns/autocallservice', headers: J, payload: status(s) });
    t.equal(r.json().code, 'GW_ERR_UPSTREAM_UNREADABLE', `status ${JSON.stringify(s)} is neither start nor stop`);
  }
  t.equal(stub.requests.length, 1, 'no restart reached Netgsm');
});
