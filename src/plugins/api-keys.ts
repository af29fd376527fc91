import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { GatewayConfig, Scope } from '../config/schema.ts';
import type { KeySmtp } from '../transports/smtp/config.ts';

/** An authenticated caller. */
export interface Principal {
  name: string;
  /** Brand codes the key may act for, or `'*'`. */
  brands: readonly number[] | '*';
  scopes: readonly Scope[] | '*';
  /** SMTP relay settings of the key (config `apiKeys[].smtp`), when it has any. */
  smtp?: KeySmtp | undefined;
}

interface StoredKey extends Principal { keyHash: string }

/** sha256 hex of a key; only this is ever stored. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * The API keys of this gateway (README "API keys"). Exactly these are live:
 * 1. every `apiKeys` entry of the config file, plus `IYS_GATE_API_KEY` when set (one key,
 *    name `env:IYS_GATE_API_KEY`, every brand and scope) — the environment adds its key, it does
 *    not remove the file's;
 * 2. only when neither gives any key: the generated key(s) of `<dataDir>/api-keys.json` (hashes
 *    only). A generated key stops being valid as soon as a key is configured (`ignoredGenerated`
 *    counts the ones set aside, so the caller can say so at boot).
 * With no key at all, `ensureKey()` generates one, stores its hash and returns the plain key once
 * so the caller can print it (API.md "Starting it").
 */
export class KeyRing {
  readonly #byHash = new Map<string, StoredKey>();
  readonly #file: string;
  /** Keys of `<dataDir>/api-keys.json` not loaded because keys are configured. */
  readonly ignoredGenerated: number = 0;

  constructor(config: Pick<GatewayConfig, 'apiKeys' | 'dataDir'>) {
    this.#file = join(config.dataDir, 'api-keys.json');
    for (const k of config.apiKeys) {
      const keyHash = k.keyHash ?? hashKey(k.key!);
      this.#byHash.set(keyHash, { name: k.name, keyHash, brands: k.brands, scopes: k.scopes, smtp: k.smtp });
    }
    if (existsSync(this.#file)) {
      const stored = JSON.parse(readFileSync(this.#file, 'utf8')) as { keys: StoredKey[] };
      if (this.#byHash.size > 0) this.ignoredGenerated = stored.keys.length;
      else for (const k of stored.keys) this.#byHash.set(k.keyHash, k);
    }
  }

  /** Names of the live keys (for the boot log; never a key or hash). */
  get names(): string[] { return [...this.#byHash.values()].map((k) => k.name); }

  get size(): number { return this.#byHash.size; }

  /**
   * Generates and stores a key with every scope when none is configured.
   * @returns the plain key (print it once), or null when keys exist already.
   */
  ensureKey(): string | null {
    if (this.#byHash.size > 0) return null;
    const key = 'igw_' + randomBytes(24).toString('base64url');
    const entry: StoredKey = { name: 'generated', keyHash: hashKey(key), brands: '*', scopes: '*' };
    mkdirSync(join(this.#file, '..'), { recursive: true });
    writeFileSync(this.#file + '.tmp', JSON.stringify({ keys: [entry] }, null, 2) + '\n', { mode: 0o600 });
    renameSync(this.#file + '.tmp', this.#file);
    this.#byHash.set(entry.keyHash, entry);
    return key;
  }

  /** The principal of a presented key, or null. Constant-time compare of the hashes. */
  verify(presented: string): Principal | null {
    const h = hashKey(presented);
    const k = this.#byHash.get(h);
    if (!k) return null;
    return timingSafeEqual(Buffer.from(k.keyHash, 'hex'), Buffer.from(h, 'hex')) ? k : null;
  }
}

/** True when `p` holds `scope`. */
export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes === '*' || p.scopes.includes(scope);
}

/** True when `p` may act for `brandCode`. */
export function hasBrand(p: Principal, brandCode: number): boolean {
  return p.brands === '*' || p.brands.includes(brandCode);
}
