import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { HMAC_BYTES } from './record-format.ts';

/**
 * How the decision log stores a recipient (README "Proving decisions"): HMAC-SHA256 under a key
 * of config `decisions.hmacKeys` (the record keeps the key id and the first 80 bits), so a leaked
 * log lists no phone number or e-mail address and a query by recipient still finds its records
 * (it hashes the queried recipient under every configured key). Optionally the block's
 * recipients are also AES-256-GCM-encrypted under `decisions.encryptionKey`, so an authorised
 * export can show them in clear.
 *
 * The HMAC is computed in plain JavaScript from precomputed inner and outer pad states (two
 * SHA-256 compressions for a recipient of ≤ 55 bytes, no allocation): about 4× cheaper than a
 * `crypto.createHmac` call per recipient; longer inputs go through node:crypto. Same output
 * (FIPS 180-4, RFC 2104), checked against node:crypto by test/check/decision-log.test.ts.
 */

/** One HMAC key: `id` 0–255 (stored in each record), `key` ≥ 16 bytes. */
export interface HmacKey { id: number; key: Buffer }

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const W = new Int32Array(64);

/** One SHA-256 compression of the 16 big-endian words `m` into state `h`. */
function compress(h: Int32Array, m: Int32Array): void {
  for (let i = 0; i < 16; i++) W[i] = m[i]!;
  for (let i = 16; i < 64; i++) {
    const a = W[i - 15]!, b = W[i - 2]!;
    W[i] = (((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3)) + W[i - 7]! + (((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10)) + W[i - 16]! | 0;
  }
  let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
  for (let i = 0; i < 64; i++) {
    const t1 = hh + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i]! + W[i]! | 0;
    const t2 = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c)) | 0;
    hh = g; g = f; f = e; e = d + t1 | 0; d = c; c = b; b = a; a = t1 + t2 | 0;
  }
  h[0] = h[0]! + a | 0; h[1] = h[1]! + b | 0; h[2] = h[2]! + c | 0; h[3] = h[3]! + d | 0;
  h[4] = h[4]! + e | 0; h[5] = h[5]! + f | 0; h[6] = h[6]! + g | 0; h[7] = h[7]! + hh | 0;
}

function padState(key: Buffer, x: number): Int32Array {
  const h = new Int32Array(IV);
  const b = Buffer.alloc(64, x);
  for (let i = 0; i < key.length; i++) b[i]! ^= key[i]!;
  const m = new Int32Array(16);
  for (let i = 0; i < 16; i++) m[i] = b.readInt32BE(i * 4);
  compress(h, m);
  return h;
}

/** HMAC-SHA256 of recipients under one key, truncated to HMAC_BYTES, written into buffers. */
export class RecipientHasher {
  readonly id: number;
  readonly #key: Buffer;
  readonly #inner: Int32Array;
  readonly #outer: Int32Array;
  readonly #h = new Int32Array(8);
  readonly #m = new Int32Array(16);
  readonly #bytes = Buffer.alloc(64);

  /** @throws RangeError for a key shorter than 16 bytes or longer than 64, or an id outside 0–255 */
  constructor(k: HmacKey) {
    if (k.key.length < 16 || k.key.length > 64) throw new RangeError('decision log HMAC key: 16 to 64 bytes');
    if (!Number.isInteger(k.id) || k.id < 0 || k.id > 255) throw new RangeError('decision log HMAC key id: 0 to 255');
    this.id = k.id;
    this.#key = k.key;
    this.#inner = padState(k.key, 0x36);
    this.#outer = padState(k.key, 0x5c);
  }

  /** Writes HMAC_BYTES of HMAC-SHA256(key, recipient) at `out[off]`. */
  hashInto(recipient: string, out: Buffer, off: number): void {
    const bytes = this.#bytes;
    if (recipient.length > 55 || Buffer.byteLength(recipient) > 55) {
      createHmac('sha256', this.#key).update(recipient).digest().copy(out, off, 0, HMAC_BYTES);
      return;
    }
    const n = bytes.write(recipient, 0, 'utf8');
    bytes.fill(0, n);
    bytes[n] = 0x80;
    const bits = (64 + n) * 8;
    bytes[62] = bits >>> 8; bytes[63] = bits & 255;
    const m = this.#m; const h = this.#h;
    for (let i = 0; i < 16; i++) m[i] = bytes.readInt32BE(i * 4);
    h.set(this.#inner); compress(h, m);
    for (let i = 0; i < 8; i++) m[i] = h[i]!;
    m[8] = 0x80000000 | 0; m[9] = 0; m[10] = 0; m[11] = 0; m[12] = 0; m[13] = 0; m[14] = 0; m[15] = (64 + 32) * 8;
    h.set(this.#outer); compress(h, m);
    out.writeInt32BE(h[0]!, off); out.writeInt32BE(h[1]!, off + 4); out.writeUInt16BE((h[2]! >>> 16) & 0xffff, off + 8);
  }

  /** The truncated HMAC of `recipient` as a new buffer. */
  hash(recipient: string): Buffer {
    const b = Buffer.allocUnsafe(HMAC_BYTES);
    this.hashInto(recipient, b, 0);
    return b;
  }
}

/** AES-256-GCM of a block's recipients: `[u8 key id][12 IV][16 tag][ciphertext]`. */
export function sealRecipients(keyId: number, key: Buffer, recipients: readonly (string | null)[]): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(recipients.map((r) => r ?? '').join('\n'), 'utf8'), c.final()]);
  return Buffer.concat([Buffer.from([keyId]), iv, c.getAuthTag(), ct]);
}

/**
 * Opens what sealRecipients wrote.
 * @returns one recipient per record ('' where none was recorded)
 * @throws Error when the key is wrong or the bytes were changed (GCM authentication)
 */
export function openRecipients(key: Buffer, sealed: Buffer): string[] {
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
  d.setAuthTag(sealed.subarray(13, 29));
  return Buffer.concat([d.update(sealed.subarray(29)), d.final()]).toString('utf8').split('\n');
}

/** Reads a key from config: 64 hex digits or base64 of 32 bytes (AES) / 16–64 bytes (HMAC). */
export function keyBytes(s: string): Buffer {
  return /^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0 ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
}
