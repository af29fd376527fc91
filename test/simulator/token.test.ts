import t from 'tap';
import { startTestSimulator, DEMO } from '../../src/simulator/testing.ts';

const START = '2026-05-12T10:00:00+03:00';

t.test('password grant (JSON and form) returns a 2 h / 4 h pair; refresh rotates', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true });
  t.teardown(() => sim.close());
  const j = await sim.http('POST', '/oauth2/token', { grant_type: 'password', username: DEMO.username, password: DEMO.password });
  t.equal(j.status, 200);
  t.equal(j.body.expires_in, 7200);
  t.equal(j.body.refresh_expires_in, 14400);
  t.equal(j.body.token_type, 'bearer');
  const payload = JSON.parse(Buffer.from(j.body.access_token.split('.')[1], 'base64url').toString());
  t.same(payload.serviceProvider, { title: 'Demo Hizmet Sağlayıcı A.Ş.', iysCode: DEMO.iysCode });
  t.same(payload.realm_access.roles, ['API_USER']);

  const f = await sim.http('POST', '/oauth2/token', `grant_type=password&username=${DEMO.username}&password=${DEMO.password}`,
    { 'content-type': 'application/x-www-form-urlencoded' });
  t.equal(f.status, 200);
  t.type(f.body.access_token, 'string');

  const r1 = await sim.http('POST', '/oauth2/token', { grant_type: 'refresh_token', refresh_token: j.body.refresh_token });
  t.equal(r1.status, 200);
  t.not(r1.body.refresh_token, j.body.refresh_token, 'a new refresh token each time');
  const again = await sim.http('POST', '/oauth2/token', { grant_type: 'refresh_token', refresh_token: j.body.refresh_token });
  t.equal(again.status, 400, 'a used refresh token is refused');
  t.equal(again.body.error, 'invalid_grant');
});

t.test('OAuth errors follow İYS examples', async (t) => {
  const sim = await startTestSimulator();
  t.teardown(() => sim.close());
  const cases: [unknown, string, string][] = [
    [{}, 'invalid_request', 'Giriş yöntemi belirtilmemiş.'],
    [{ grant_type: '' }, 'invalid_grant', 'Giriş yöntemi boş olamaz.'],
    [{ grant_type: 'client_credentials' }, 'invalid_request', 'Bilinmeyen giriş yöntemi.'],
    [{ grant_type: 'password', password: 'x' }, 'invalid_request', 'Kullanıcı adı verilmemiş.'],
    [{ grant_type: 'password', username: 'x' }, 'invalid_request', 'Şifre verilmemiş.'],
    [{ grant_type: 'password', username: DEMO.username, password: 'wrong' }, 'invalid_request', 'Kullanıcı kimlik bilgileri geçersiz.'],
    [{ grant_type: 'refresh_token' }, 'invalid_request', 'Yenileme jetonu verilmemiş.'],
    [{ grant_type: 'refresh_token', refresh_token: 'nope' }, 'invalid_grant', 'Geçersiz yenileme jetonu.'],
  ];
  for (const [body, error, desc] of cases) {
    const r = await sim.http('POST', '/oauth2/token', body);
    t.equal(r.status, 400, JSON.stringify(body));
    t.same(r.body, { error, error_description: desc });
  }
});

t.test('access token expires after 2 h, refresh after 4 h (simulated clock)', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true });
  t.teardown(() => sim.close());
  const j = await sim.http('POST', '/oauth2/token', { grant_type: 'password', username: DEMO.username, password: DEMO.password });
  const auth = { authorization: `Bearer ${j.body.access_token}` };
  t.equal((await sim.http('GET', `/sps/${DEMO.iysCode}/brands`, undefined, auth)).status, 200);
  await sim.advance(7_200_000);
  const expired = await sim.http('GET', `/sps/${DEMO.iysCode}/brands`, undefined, auth);
  t.equal(expired.status, 401);
  t.equal(expired.body.errors[0].code, 'H351');
  await sim.advance(7_200_000);
  const r = await sim.http('POST', '/oauth2/token', { grant_type: 'refresh_token', refresh_token: j.body.refresh_token });
  t.equal(r.status, 400, 'refresh token dead after 4 h');
});

t.test('100 token requests per hour per IP, then H084; a call during the penalty restarts the hour', async (t) => {
  const sim = await startTestSimulator({ clockStartAt: START, clockFrozen: true });
  t.teardown(() => sim.close());
  const body = { grant_type: 'password', username: DEMO.username, password: DEMO.password };
  for (let i = 0; i < 100; i++) {
    const r = await sim.http('POST', '/oauth2/token', body);
    if (r.status !== 200) t.fail(`request ${i + 1} got ${r.status}`);
  }
  const over = await sim.http('POST', '/oauth2/token', body);
  t.equal(over.status, 429);
  t.equal(over.body.errors[0].code, 'H084');
  await sim.advance(30 * 60_000);
  t.equal((await sim.http('POST', '/oauth2/token', body)).status, 429, '30 min later: still H084 (restarts the hour)');
  await sim.advance(59 * 60_000);
  t.equal((await sim.http('POST', '/oauth2/token', body)).status, 429, '89 min after the first H084 but 59 min after the last call');
  await sim.advance(61 * 60_000);
  t.equal((await sim.http('POST', '/oauth2/token', body)).status, 200, 'a full quiet hour ends the penalty');
});

t.test('bearer auth on İYS routes: missing or foreign token → H351, other iysCode/brand → H353', async (t) => {
  const sim = await startTestSimulator();
  t.teardown(() => sim.close());
  const none = await sim.http('GET', `/sps/${DEMO.iysCode}/brands`);
  t.equal(none.status, 401);
  t.same(none.body, { errors: [{ code: 'H351', message: 'Eksik veya geçersiz jeton!' }] });
  const tok = await sim.token();
  const auth = { authorization: `Bearer ${tok}` };
  const unknown = await sim.http('GET', '/sps/999/brands', undefined, auth);
  t.equal(unknown.status, 404, 'brands of a provider nobody holds: H001');
  t.equal(unknown.body.errors[0].code, 'H001');
  const other = await sim.http('POST', '/sps/999/brands/999/consents/status', { recipient: '+905321234567', recipientType: 'BIREYSEL', type: 'MESAJ' }, auth);
  t.equal(other.status, 403);
  t.equal(other.body.errors[0].code, 'H353');
  const otherBrand = await sim.http('POST', `/sps/${DEMO.iysCode}/brands/999/consents/status`, { recipient: '+905321234567', recipientType: 'BIREYSEL', type: 'MESAJ' }, auth);
  t.equal(otherBrand.status, 403);
  t.match(otherBrand.body.errors[0].message, /brandCode/);
});
