import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { GatewayConfig } from '../../config/schema.ts';
import { gatewayError } from '../../errors.ts';
import { DecisionLog } from './decision-log.ts';
import { keyBytes, type HmacKey } from './recipient-keys.ts';

/** The decision log's keys resolved from config (or the generated key file). */
export interface DecisionKeys { hmacKeys: HmacKey[]; currentKeyId: number; encryption?: { id: number; key: Buffer } | undefined }

/** `<dataDir>/decisions`: this instance's log. */
export const decisionDir = (config: Pick<GatewayConfig, 'dataDir'>) => join(config.dataDir, 'decisions');

/**
 * The HMAC keys (and the encryption key) of config `decisions`. Without `hmacKeys`, one key is
 * generated into `<dataDir>/decision-keys.json` (mode 0600, outside `decisions/` so a copy of the
 * log alone does not carry it) and reused at every start.
 * @throws GW_ERR_CONFIG_INVALID for a key of the wrong size or a `hmacKeyId` not among the keys
 */
export function decisionKeys(config: Pick<GatewayConfig, 'dataDir' | 'decisions'>, create = true): DecisionKeys {
  const d = config.decisions;
  let keys: HmacKey[];
  if (d.hmacKeys) keys = d.hmacKeys.map((k) => ({ id: k.id, key: keyBytes(k.key) }));
  else {
    const file = join(config.dataDir, 'decision-keys.json');
    if (!existsSync(file)) {
      if (!create) return { hmacKeys: [], currentKeyId: 0 };
      mkdirSync(config.dataDir, { recursive: true });
      writeFileSync(file + '.tmp', JSON.stringify({ hmacKeys: [{ id: 1, key: randomBytes(32).toString('hex') }] }) + '\n', { mode: 0o600 });
      renameSync(file + '.tmp', file);
      chmodSync(file, 0o600);
    }
    keys = (JSON.parse(readFileSync(file, 'utf8')) as { hmacKeys: { id: number; key: string }[] }).hmacKeys.map((k) => ({ id: k.id, key: keyBytes(k.key) }));
  }
  for (const k of keys) if (k.key.length < 16 || k.key.length > 64) throw gatewayError('GW_ERR_CONFIG_INVALID', [`decisions.hmacKeys id ${k.id}: 16 to 64 bytes`]);
  const currentKeyId = d.hmacKeyId ?? Math.max(...keys.map((k) => k.id));
  if (!keys.some((k) => k.id === currentKeyId)) throw gatewayError('GW_ERR_CONFIG_INVALID', [`decisions.hmacKeyId ${currentKeyId} is not among decisions.hmacKeys`]);
  let encryption: DecisionKeys['encryption'];
  if (d.encryptionKey) {
    const key = keyBytes(d.encryptionKey);
    if (key.length !== 32) throw gatewayError('GW_ERR_CONFIG_INVALID', ['decisions.encryptionKey: 32 bytes (64 hex digits or base64)']);
    encryption = { id: 1, key };
  }
  return { hmacKeys: keys, currentKeyId, encryption };
}

/**
 * The decision log of a gateway, or null with `decisions.log: off`. Does not wait for the writer
 * (DecisionLog.create); the server start calls `ready()`.
 */
export function createDecisionLog(config: GatewayConfig, warn: (m: string) => void, now?: () => number): DecisionLog | null {
  const d = config.decisions;
  if (d.log === 'off') return null;
  const keys = decisionKeys(config);
  return DecisionLog.create({
    dir: decisionDir(config), mode: d.log, flushMs: d.flushMs, segmentBytes: d.segmentBytes, retentionDays: d.retentionDays,
    hmacKeys: keys.hmacKeys, currentKeyId: keys.currentKeyId, encryption: keys.encryption, writer: d.writer, warn,
    ...(now ? { now } : {}),
  });
}
