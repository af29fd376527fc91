/**
 * The SMPP front as the gateway runs it (server.ts startSmpp on a full app): screening through
 * the app's CheckService and decision log, and an MO "RET" from the upstream handed to the
 * inbound door's opt-out capture (handleInboundReply): the refusal blocks the next submit.
 */
import t from 'tap';
import smpp from 'smpp';
import { startSmpp } from '../../src/server.ts';
import { makeGateway } from '../helpers/gateway.ts';
import { boundEsme, startStubSmsc, until } from './smpp-harness.ts';

const E = smpp.errors as Record<string, number>;
const BRAND = 630001;
const NUMBER = '905321119001';

t.test('an MO RET through the SMPP front becomes a refusal; the next submit to that number is refused', async (t) => {
  const stub = await startStubSmsc(t);
  const gw = await makeGateway(t, {
    brands: [BRAND],
    inbound: { numbers: { '4545': [BRAND] } },
    smpp: {
      port: 0,
      binds: [{ systemId: 'esme1', password: 'secret1', brandCode: BRAND, upstream: 'op' }],
      upstreams: [{ name: 'op', url: stub.url, systemId: 'gate', password: 'pw', reconnectMinMs: 20 }],
    },
  });
  await gw.store.apply([{ brandCode: BRAND, recipientType: 'BIREYSEL', type: 'MESAJ', recipient: '+' + NUMBER, status: 'ONAY', source: 'HS_WEB', consentDate: '2026-01-05 10:00:00', creationDate: '2026-01-05 10:00:05', transactionId: null, retailerAccess: null }]);
  const front = await startSmpp(gw.app, gw.config);
  t.teardown(() => front.close());
  await until(() => front.pools.get('op')!.boundCount > 0, 5_000, 'upstream bind');
  const port = front.listeningPort;
  const e = await boundEsme(t, port);
  e.session.on('deliver_sm', (p: { response(): unknown }) => { e.session.send(p.response() as never); });
  t.equal((await e.call('submit_sm', { dest_addr_ton: 1, destination_addr: NUMBER, short_message: 'Kampanya: ...' })).command_status, 0, 'ONAY: forwarded');
  t.equal(await stub.deliver({ source_addr_ton: 1, source_addr: NUMBER, destination_addr: '4545', short_message: 'RET' }), 0, 'the SMSC hears OK once the refusal is recorded');
  const r = await e.call('submit_sm', { dest_addr_ton: 1, destination_addr: NUMBER, short_message: 'Kampanya: ...' });
  t.equal(r.command_status, E.ESME_RX_R_APPN, 'refused after the RET reply');
  const c = await gw.call('POST', '/v1/check', { brandCode: BRAND, type: 'MESAJ', recipient: '+' + NUMBER });
  t.equal(c.body.decision, 'BLOCK', JSON.stringify(c.body));
  t.equal(stub.submits.length, 1);
  const m = await gw.app.inject({ method: 'GET', url: '/metrics' });
  t.match(m.body, /iysgate_smpp_pdus_total\{command="submit_sm",outcome="blocked"\} 1/, 'SMPP metrics on the gateway\'s /metrics');
});
