/**
 * Issue 16 "TLS optional", real sockets: an ESME built with the `smpp` package binds to iys-gate's
 * TLS listener (`smpp.tls`), verifying the gate's certificate; iys-gate binds to a TLS stub SMSC
 * (`ssmpp://`, `caFile`), verifying the stub's. ONAY is forwarded byte-identical and answered with
 * the stub's message id, RET refused with the permanent status; plain TCP to the TLS port binds
 * nothing; an upstream whose certificate is not trusted is never bound to.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import smpp, { type PDU, type Session } from 'smpp';
import { connectEsme, rawOf, startGate, until, withoutSeq } from './smpp-harness.ts';

const E = smpp.errors as Record<string, number>;
const ONAY = '905321110001';
const RET = '905321110002';

/** A self-signed certificate for 127.0.0.1 (subjectAltName IP), in a temp directory. */
function certificate(t: { teardown(fn: () => unknown): void }, cn: string): { key: string; cert: string; keyPem: Buffer; certPem: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-smpp-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'key.pem'); const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-days', '2',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { key, cert, keyPem: readFileSync(key), certPem: readFileSync(cert) };
}

/** A stub SMSC over TLS (the `smpp` package's server with key and cert): answers submits with ids, records them. */
async function tlsStub(t: { teardown(fn: () => unknown): void }, c: { keyPem: Buffer; certPem: Buffer }) {
  const submits: PDU[] = []; const sessions: Session[] = []; let n = 0; let binds = 0;
  const server = smpp.createServer({ key: c.keyPem, cert: c.certPem }, (s: Session) => {
    sessions.push(s);
    s.on('error', () => {});
    const bind = (p: PDU) => { binds++; s.send(p.response({ system_id: 'stub' })); };
    s.on('bind_transceiver', bind); s.on('bind_transmitter', bind);
    s.on('enquire_link', (p: PDU) => s.send(p.response()));
    s.on('unbind', (p: PDU) => { s.send(p.response()); s.close(); });
    s.on('submit_sm', (p: PDU) => { submits.push(p); s.send(p.response({ message_id: `tls-${++n}` })); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => { for (const s of sessions) s.destroy(); server.close(() => resolve()); }));
  return { port, submits, binds: () => binds };
}

/** An ESME over TLS that trusts `ca`; resolves once the TLS handshake verified the gate. */
async function tlsEsme(t: { teardown(fn: () => unknown): void }, port: number, ca: Buffer) {
  const session = smpp.connect({ url: `ssmpp://127.0.0.1:${port}`, ca } as never);
  session.on('error', () => {});
  const sent: Buffer[] = [];
  const write = session.socket.write.bind(session.socket) as (b: Buffer, cb?: () => void) => boolean;
  (session.socket as unknown as { write: typeof write }).write = (b: Buffer, cb?: () => void) => { sent.push(Buffer.from(b)); return write(b, cb); };
  await new Promise<void>((resolve, reject) => { session.once('secureConnect', () => resolve()); session.socket.once('error', reject); });
  t.teardown(() => { session.destroy(); });
  const call = (command: string, fields: Record<string, unknown> = {}) => new Promise<PDU>((resolve) => {
    (session[command] as (f: Record<string, unknown>, cb: (p: PDU) => void) => void).call(session, fields, resolve);
  });
  return { session, sent, call };
}

const intl = (addr: string, extra: Record<string, unknown> = {}) => ({
  source_addr_ton: 5, source_addr_npi: 0, source_addr: 'IYSGATE', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: addr, ...extra,
});

t.test('ESME → iys-gate over TLS → stub SMSC over TLS: ONAY forwarded byte-identical with the stub\'s id, RET refused', async (t) => {
  const gateCert = certificate(t, 'iys-gate');
  const stubCert = certificate(t, 'stub-smsc');
  const stub = await tlsStub(t, stubCert);
  const gate = await startGate(t, `ssmpp://127.0.0.1:${stub.port}`, { tls: { keyFile: gateCert.key, certFile: gateCert.cert }, upstream: { caFile: stubCert.cert } });
  await gate.seed([{ recipient: '+' + ONAY, status: 'ONAY' }, { recipient: '+' + RET, status: 'RET' }]);
  await until(gate.upstreamBound, 5_000, 'upstream bind over TLS');
  t.equal(stub.binds(), 1, 'iys-gate bound to the TLS stub, its certificate verified against caFile');

  const e = await tlsEsme(t, gate.port, gateCert.certPem);
  t.equal((e.session.socket as unknown as { authorized: boolean }).authorized, true, 'the ESME verified the gate\'s certificate');
  const b = await e.call('bind_transceiver', { system_id: 'esme1', password: 'secret1' });
  t.equal(b.command_status, 0, 'bound over TLS');
  const ok = await e.call('submit_sm', intl(ONAY, { short_message: 'Yeni sezon kampanyamız başladı' }));
  t.equal(ok.command_status, 0);
  t.equal(ok.message_id, 'tls-1', 'the upstream\'s message_id over both TLS hops');
  t.equal(stub.submits.length, 1);
  const mine = e.sent.find((x) => x.length >= 16 && x.readUInt32BE(12) === ok.sequence_number && (x.readUInt32BE(4) & 0x80000000) === 0)!;
  t.same(withoutSeq(rawOf(stub.submits[0]!)), withoutSeq(mine), 'the stub got the ESME\'s bytes (sequence number aside)');
  const no = await e.call('submit_sm', intl(RET, { short_message: 'Yeni sezon kampanyamız başladı' }));
  t.equal(no.command_status, E.ESME_RX_R_APPN, 'RET refused with the permanent status');
  t.equal(stub.submits.length, 1, 'the refused submit never reached the stub');
  t.equal((await e.call('unbind')).command_status, 0);
});

t.test('plain TCP to the TLS listener binds nothing; an untrusted upstream certificate is never bound to', async (t) => {
  const gateCert = certificate(t, 'iys-gate');
  const stubCert = certificate(t, 'stub-smsc');
  const stub = await tlsStub(t, stubCert);
  // no caFile: the stub's self-signed certificate is not trusted
  const gate = await startGate(t, `ssmpp://127.0.0.1:${stub.port}`, { tls: { keyFile: gateCert.key, certFile: gateCert.cert } });
  const plain = await connectEsme(t, gate.port);
  let answered = false;
  plain.call('bind_transceiver', { system_id: 'esme1', password: 'secret1' }).then(() => { answered = true; }, () => undefined);
  await plain.closed; // the TLS server drops a client that does not speak TLS
  t.equal(answered, false, 'no bind answer in clear text');
  await new Promise((r) => setTimeout(r, 300)); // several reconnect attempts (reconnectMinMs 20)
  t.equal(stub.binds(), 0, 'no bind reached the upstream whose certificate failed verification');
  t.equal(gate.upstreamBound(), false);
});
