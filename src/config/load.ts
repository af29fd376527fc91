import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { gatewayError } from '../errors.ts';
import { configSchema, type GatewayConfig, type GatewayConfigInput } from './schema.ts';

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
  if (env.IYS_GATE_API_KEY) {
    const keys = Array.isArray(raw.apiKeys) ? raw.apiKeys : [];
    raw.apiKeys = [...keys, { name: 'env:IYS_GATE_API_KEY', key: env.IYS_GATE_API_KEY, brands: '*', scopes: '*' }];
  }
  const res = configSchema.safeParse(raw);
  if (!res.success) {
    const list = res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw gatewayError('GW_ERR_CONFIG_INVALID', [list]);
  }
  return deepFreeze(res.data);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
