import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { gatewayError } from '../errors.ts';
import { configSchema, type GatewayConfig, type GatewayConfigInput } from './schema.ts';
import { brandCodesOf } from './inbound-schema.ts';

/**
 * Loads the configuration: the file (`--config FILE` or IYS_GATE_CONFIG; JSON or YAML), then the
 * environment overrides of API.md (IYS_GATE_PORT, _HOST, _DATA_DIR, _REDIS_URL, _API_KEY), then
 * validates with zod and deep-freezes the result.
 * @throws GW_ERR_CONFIG_INVALID listing every issue (path: message), or when the file cannot be read.
 */
export function loadConfig(opts: { file?: string | undefined; env?: NodeJS.ProcessEnv; overrides?: GatewayConfigInput } = {}): GatewayConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.IYS_GATE_CONFIG;
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch (err) {
      throw gatewayError('GW_ERR_CONFIG_INVALID', [`cannot read ${file}: ${(err as Error).message}`], { cause: err });
    }
    try {
      const parsed: unknown = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) raw = parsed as Record<string, unknown>;
      else throw new Error('top level must be an object');
    } catch (err) {
      throw gatewayError('GW_ERR_CONFIG_INVALID', [`${file}: ${(err as Error).message}`], { cause: err });
    }
  }
  raw = { ...raw, ...(opts.overrides ?? {}) };
  if (env.IYS_GATE_PORT !== undefined) raw.port = Number(env.IYS_GATE_PORT);
  if (env.IYS_GATE_HOST) raw.host = env.IYS_GATE_HOST;
  if (env.IYS_GATE_DATA_DIR) raw.dataDir = env.IYS_GATE_DATA_DIR;
  if (env.IYS_GATE_REDIS_URL) raw.redisUrl = env.IYS_GATE_REDIS_URL;
  if (env.IYS_GATE_STORE) raw.store = env.IYS_GATE_STORE;
  if (env.IYS_GATE_API_KEY) {
    const keys = Array.isArray(raw.apiKeys) ? raw.apiKeys : [];
    raw.apiKeys = [...keys, { name: 'env:IYS_GATE_API_KEY', key: env.IYS_GATE_API_KEY, brands: '*', scopes: '*' }];
  }
  const res = configSchema.safeParse(raw);
  if (!res.success) {
    const list = res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw gatewayError('GW_ERR_CONFIG_INVALID', [list]);
  }
  const issues = crossCheck(res.data);
  if (issues.length) throw gatewayError('GW_ERR_CONFIG_INVALID', [issues.join('; ')]);
  return deepFreeze(res.data);
}

/**
 * Secrets that appear in iys-gate's documentation and example files (README, config/example.yaml,
 * API.md). A key equal to one of them, or any key or push password starting with `change-me`, is
 * refused at boot: a copied example must never be a live credential (issue 10 item 10).
 */
export const PLACEHOLDER_SECRETS: readonly string[] = [
  'change-me-operator-key-0123456789', 'change-me-sms-platform-key-0123456789', 'change-me-push-secret',
  'some-long-secret', 'local-key-0123456789',
];
const PLACEHOLDER_HASHES = new Set(PLACEHOLDER_SECRETS.map((k) => createHash('sha256').update(k).digest('hex')));

/** True when `secret` is a documentation placeholder (see PLACEHOLDER_SECRETS). */
export function isPlaceholderSecret(secret: string): boolean {
  return /^change[-_]?me/i.test(secret.trim()) || PLACEHOLDER_SECRETS.includes(secret.trim());
}

/**
 * Rules across keys zod checks one by one: no placeholder secret; with known brands
 * (`brands` / `iys.brands`), every key's brands and every upstream's brandCode among them.
 * @returns `path: message` issues (empty = fine)
 */
function crossCheck(c: GatewayConfig): string[] {
  const issues: string[] = [];
  c.apiKeys.forEach((k, i) => {
    if ((k.key !== undefined && isPlaceholderSecret(k.key)) || (k.keyHash !== undefined && PLACEHOLDER_HASHES.has(k.keyHash))) {
      issues.push(`apiKeys.${i}.key: ${k.name} uses a placeholder secret from the documentation; set a secret of your own (e.g. openssl rand -base64 32)`);
    }
  });
  if (c.iys?.push && isPlaceholderSecret(c.iys.push.password)) issues.push('iys.push.password: a placeholder secret from the documentation; set one of your own');
  if (typeof c.metricsAuth === 'object' && isPlaceholderSecret(c.metricsAuth.password)) issues.push('metricsAuth.password: a placeholder secret from the documentation; set one of your own');
  const upstreamNames = new Set(c.upstreams.map((u) => u.name));
  for (const name of Object.keys(c.inbound.upstreams)) if (!upstreamNames.has(name)) issues.push(`inbound.upstreams.${name}: no upstream of that name (upstreams[].name)`);
  for (const [name, u] of Object.entries(c.inbound.upstreams)) if (u.pollIntervalMs > 0 && !u.credentials) issues.push(`inbound.upstreams.${name}.credentials: a poller needs the provider's credentials`);
  for (const [name, u] of Object.entries(c.inbound.upstreams)) if (u.secret !== undefined && isPlaceholderSecret(u.secret)) issues.push(`inbound.upstreams.${name}.secret: a placeholder secret from the documentation; set one of your own`);
  const conf = c.inbound.confirmation;
  if (conf) {
    const u = c.upstreams.find((x) => x.name === conf.upstream);
    if (!u) issues.push(`inbound.confirmation.upstream: no upstream named ${conf.upstream}`);
    else if (u.adapter !== 'webhook' && !c.inbound.upstreams[conf.upstream]?.credentials) issues.push(`inbound.confirmation.upstream: ${conf.upstream} has no inbound.upstreams.${conf.upstream}.credentials to send with`);
  }
  const served = new Set([...brandCodesOf(c.brands), ...(c.iys?.brands ?? [])]);
  if (served.size > 0) {
    const list = [...served].join(', ');
    c.apiKeys.forEach((k, i) => {
      if (k.brands === '*') return;
      for (const b of k.brands) if (!served.has(b)) issues.push(`apiKeys.${i}.brands: ${k.name} holds brand ${b}, which the gateway does not serve (brands/iys.brands: ${list})`);
    });
    for (const [dest, brands] of Object.entries(c.inbound.numbers)) {
      for (const b of brands) if (!served.has(b)) issues.push(`inbound.numbers.${dest}: brand ${b} is not served (brands/iys.brands: ${list})`);
    }
    c.upstreams.forEach((u, i) => {
      if (!served.has(u.brandCode)) issues.push(`upstreams.${i}.brandCode: ${u.name} sends for brand ${u.brandCode}, which the gateway does not serve (brands/iys.brands: ${list})`);
    });
    c.smpp?.binds.forEach((b, i) => {
      if (!served.has(b.brandCode)) issues.push(`smpp.binds.${i}.brandCode: ${b.systemId} sends for brand ${b.brandCode}, which the gateway does not serve (brands/iys.brands: ${list})`);
    });
  }
  return issues;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
