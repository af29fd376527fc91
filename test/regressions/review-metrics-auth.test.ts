// Issue 10, found by review: GET /metrics had no protection, and the Docker image listens on
// 0.0.0.0. `metricsAuth`: `key` (a Bearer key with scope `metrics`) or HTTP Basic; `none` stays
// the default for 127.0.0.1.
import t from 'tap';
import { loadConfig } from '../../src/config/load.ts';
import { makeGateway, TEST_KEY } from '../helpers/gateway.ts';

const get = (gw: Awaited<ReturnType<typeof makeGateway>>, authorization?: string) =>
  gw.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });

t.test('metricsAuth: none (default) is open', async (t) => {
  const gw = await makeGateway(t);
  t.equal(gw.config.metricsAuth, 'none');
  const r = await get(gw);
  t.equal(r.statusCode, 200);
  t.match(r.body, /iysgate_mirror_consents/);
});

t.test('metricsAuth: key needs a Bearer key with scope metrics (or *)', async (t) => {
  const gw = await makeGateway(t, {
    metricsAuth: 'key',
    apiKeys: [
      { name: 'prometheus', key: 'prometheus-key-0123456789', scopes: ['metrics'] },
      { name: 'checker', key: 'checker-key-0123456789', scopes: ['check'] },
    ],
  });
  const none = await get(gw);
  t.equal(none.statusCode, 401);
  t.equal(none.json().code, 'GW_ERR_UNAUTHORIZED');
  t.equal((await get(gw, 'Bearer wrong-key-0123456789')).statusCode, 401);
  const noScope = await get(gw, 'Bearer checker-key-0123456789');
  t.equal(noScope.statusCode, 403);
  t.match(noScope.json().message, /scope metrics/);
  const ok = await get(gw, 'Bearer prometheus-key-0123456789');
  t.equal(ok.statusCode, 200);
  t.match(ok.body, /iysgate_http_request_duration_seconds/);
  t.equal((await get(gw, `Bearer ${TEST_KEY}`)).statusCode, 200, 'a * key reads them too');
  // the metrics key is no key for anything else
  t.equal((await gw.call('POST', '/v1/check', { brandCode: 1, recipient: '05321234567', type: 'MESAJ' }, { authorization: 'Bearer prometheus-key-0123456789' })).status, 403);
  t.equal((await gw.call('GET', '/healthz', undefined, { authorization: '' })).status, 200, 'health stays open');
});

t.test('metricsAuth: {username, password} is HTTP Basic', async (t) => {
  const gw = await makeGateway(t, { metricsAuth: { username: 'prom', password: 'scrape-secret-0123' } });
  const none = await get(gw);
  t.equal(none.statusCode, 401);
  t.equal(none.headers['www-authenticate'], 'Basic realm="iys-gate metrics"');
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  t.equal((await get(gw, basic('prom', 'wrong-secret-0123'))).statusCode, 401);
  t.equal((await get(gw, basic('prom', 'scrape-secret-0123x'))).statusCode, 401);
  t.equal((await get(gw, `Bearer ${TEST_KEY}`)).statusCode, 401, 'a bearer key is not the Basic credential');
  const ok = await get(gw, basic('prom', 'scrape-secret-0123'));
  t.equal(ok.statusCode, 200);
  t.match(ok.body, /iysgate_mirror_consents/);
});

t.test('metricsAuth config is validated', async (t) => {
  for (const bad of ['basic', { username: 'p', password: 'short' }, { username: 'p', password: 'long-enough-secret', realm: 'x' }]) {
    t.throws(() => loadConfig({ env: {}, overrides: { metricsAuth: bad as never } }), { code: 'GW_ERR_CONFIG_INVALID' }, JSON.stringify(bad));
  }
});
