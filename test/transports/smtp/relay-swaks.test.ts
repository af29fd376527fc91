import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SMTP_KEY, makeSmtpGateway, startSink } from './smtp-harness.ts';

// swaks (Debian package, installed by .ci/run) as a second, independent SMTP client
function swaks(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('swaks', ['--hide-informational', ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: String(stdout) + String(stderr) });
    });
  });
}

t.test('swaks over STARTTLS with a test certificate: AUTH, a refused recipient, 535, 530 without AUTH', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-smtp-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-days', '2',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const sink = await startSink(t);
  const gw = await makeSmtpGateway(t, sink.port, { tls: { key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem') } });
  const base = ['--server', '127.0.0.1', '--port', String(gw.smtpPort), '--from', 'shop@brand.example', '--header', 'Subject: Yeni sezon', '--body', 'Merhaba'];
  const ok = await swaks([...base, '--tls', '--auth', 'PLAIN', '--auth-user', 'mailer', '--auth-password', SMTP_KEY, '--to', 'onay@example.com']);
  t.equal(ok.code, 0, 'delivered');
  t.match(ok.out, /<~ +250 2\.6\.0 Ok: forwarded to 1 of 1 recipients/);
  t.equal(sink.messages.length, 1);
  t.match(sink.messages[0]!.raw.toString(), /List-Unsubscribe: <https:\/\/gate\.example\.com\/u\//);
  const refused = await swaks([...base, '--tls', '--auth', 'LOGIN', '--auth-user', 'mailer', '--auth-password', SMTP_KEY, '--to', 'ret@example.com']);
  t.not(refused.code, 0);
  t.match(refused.out, /<~\* +550 5\.7\.1 GW_ERR_SMTP_RECIPIENT_REFUSED: .*CONSENT_RET/);
  const bad = await swaks([...base, '--tls', '--auth', 'PLAIN', '--auth-user', 'mailer', '--auth-password', 'not-the-key-0123456789abcdef', '--to', 'onay@example.com']);
  t.not(bad.code, 0);
  t.match(bad.out, /<~\* +535 5\.7\.8 GW_ERR_UNAUTHORIZED/);
  const noAuth = await swaks([...base, '--tls', '--to', 'onay@example.com']);
  t.not(noAuth.code, 0);
  t.match(noAuth.out, /<~\* +530 5\.7\.0 GW_ERR_UNAUTHORIZED/, 'no AUTH: no relay');
  const plain = await swaks([...base, '--auth', 'PLAIN', '--auth-user', 'mailer', '--auth-password', SMTP_KEY, '--to', 'onay@example.com']);
  t.not(plain.code, 0, 'with smtp.tls, AUTH needs STARTTLS first');
  t.equal(sink.messages.length, 1, 'nothing else relayed');
});
