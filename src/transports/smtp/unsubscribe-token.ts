import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RecipientType } from '../../domain/types.ts';

/** What a one-click unsubscribe token stands for (an EPOSTA RET of `recipient` for `brandCode`). */
export interface UnsubscribeClaim {
  brandCode: number;
  /** Canonical e-mail address (domain/recipient.ts). */
  recipient: string;
  recipientType: RecipientType;
  /** Issue time, epoch seconds. */
  issuedAt: number;
}

const VERSION = 1;
const IV_BYTES = 16;
const MAC_BYTES = 16;

/** Two keys from the configured secret: one encrypts, one signs (HMAC-SHA256, domain-separated). */
const keyCache = new Map<string, { enc: Buffer; mac: Buffer }>();
function keys(secret: string): { enc: Buffer; mac: Buffer } {
  const hit = keyCache.get(secret);
  if (hit) return hit;
  const k = {
    enc: createHmac('sha256', secret).update('iys-gate unsubscribe enc v1').digest(),
    mac: createHmac('sha256', secret).update('iys-gate unsubscribe mac v1').digest(),
  };
  if (keyCache.size < 16) keyCache.set(secret, k);
  return k;
}

/**
 * A stateless, signed token for `List-Unsubscribe: <…/u/TOKEN>` (RFC 8058; issue 13):
 * base64url of version ‖ IV ‖ AES-256-CTR(brand, recipient type, issue time, recipient) ‖
 * HMAC-SHA256(version ‖ IV ‖ ciphertext) truncated to 128 bits (encrypt-then-MAC). The recipient
 * is never in clear in the URL; the token needs no state to verify; any change is a forgery.
 * @param secret config `smtp.unsubscribe.secret` (≥ 32 characters)
 */
export function signUnsubscribeToken(secret: string, claim: UnsubscribeClaim, iv: Buffer = randomBytes(IV_BYTES)): string {
  const k = keys(secret);
  const plain = Buffer.from(`${claim.brandCode}\n${claim.recipientType === 'TACIR' ? 'T' : 'B'}\n${claim.issuedAt}\n${claim.recipient}`, 'utf8');
  const c = createCipheriv('aes-256-ctr', k.enc, iv);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  const head = Buffer.concat([Buffer.from([VERSION]), iv, ct]);
  const mac = createHmac('sha256', k.mac).update(head).digest().subarray(0, MAC_BYTES);
  return Buffer.concat([head, mac]).toString('base64url');
}

/**
 * The claim of a token, or null when it is malformed, forged, signed with another secret, or
 * older than `maxAgeMs` (0 = no age limit). Constant-time MAC comparison. Never throws.
 */
export function verifyUnsubscribeToken(secret: string, token: string, opts: { maxAgeMs: number; now: number }): UnsubscribeClaim | null {
  if (token.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const buf = Buffer.from(token, 'base64url');
  // one spelling per token: base64url's last character carries unused bits, so another spelling of
  // the same bytes is refused like any change (a link is never accepted in two forms)
  if (buf.toString('base64url') !== token) return null;
  if (buf.length < 1 + IV_BYTES + 8 + MAC_BYTES || buf[0] !== VERSION) return null;
  const k = keys(secret);
  const head = buf.subarray(0, buf.length - MAC_BYTES);
  const mac = createHmac('sha256', k.mac).update(head).digest().subarray(0, MAC_BYTES);
  if (!timingSafeEqual(mac, buf.subarray(buf.length - MAC_BYTES))) return null;
  const d = createDecipheriv('aes-256-ctr', k.enc, head.subarray(1, 1 + IV_BYTES));
  const plain = Buffer.concat([d.update(head.subarray(1 + IV_BYTES)), d.final()]).toString('utf8');
  const m = /^([1-9]\d{0,9})\n([BT])\n(\d{1,12})\n([^\n]+)$/.exec(plain);
  if (!m) return null;
  const issuedAt = Number(m[3]);
  if (opts.maxAgeMs > 0 && opts.now - issuedAt * 1000 > opts.maxAgeMs) return null;
  return { brandCode: Number(m[1]), recipientType: m[2] === 'T' ? 'TACIR' : 'BIREYSEL', issuedAt, recipient: m[4]! };
}
