/**
 * Issue 16 leftover: a TLS file named by the SMPP config that cannot be read (smpp.tls.keyFile /
 * certFile, smpp.upstreams[].caFile) is a coded start error naming the key, not a bare ENOENT.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigFile } from '../../src/transports/smpp/config.ts';

t.test('a missing file is GW_ERR_CONFIG_INVALID naming the key and the path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iysgate-smpp-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, 'nope.pem');
  let err: (Error & { code?: string }) | null = null;
  try { readConfigFile(missing, 'smpp.tls.certFile'); } catch (e) { err = e as Error & { code?: string }; }
  t.ok(err, 'throws');
  t.equal(err!.code, 'GW_ERR_CONFIG_INVALID');
  t.match(err!.message, /smpp\.tls\.certFile/);
  t.match(err!.message, /nope\.pem/);
  t.match(err!.message, /ENOENT/);
  const present = join(dir, 'ca.pem');
  writeFileSync(present, 'PEM');
  t.equal(readConfigFile(present, 'smpp.upstreams[x].caFile').toString('utf8'), 'PEM', 'a readable file is returned as is');
});
