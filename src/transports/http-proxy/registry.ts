import { ADAPTERS } from './adapters.ts';
import type { ProviderAdapter } from './types.ts';
import { UpstreamClient } from './upstream-client.ts';
import { parseUpstreams, type UpstreamConfig } from './upstream-config.ts';

/** A configured upstream: its validated config, adapter and pooled client. */
export interface Upstream { config: UpstreamConfig; adapter: ProviderAdapter; client: UpstreamClient }

/** The upstreams of one config, built once (one undici Pool each) and shared by the proxy and `/v1/send`. */
export class UpstreamRegistry {
  readonly #byName = new Map<string, Upstream>();
  #closing: Promise<void> | null = null;

  /** @throws GW_ERR_CONFIG_INVALID (see parseUpstreams) */
  constructor(upstreams: readonly unknown[]) {
    for (const config of parseUpstreams(upstreams)) {
      this.#byName.set(config.name, { config, adapter: ADAPTERS[config.adapter], client: new UpstreamClient(config) });
    }
  }

  get(name: string): Upstream | undefined { return this.#byName.get(name); }
  list(): Upstream[] { return [...this.#byName.values()]; }

  /** Closes every pool (idempotent). */
  close(): Promise<void> {
    this.#closing ??= Promise.all(this.list().map((u) => u.client.close())).then(() => undefined);
    return this.#closing;
  }
}

const byConfig = new WeakMap<object, UpstreamRegistry>();

/** The registry of `config.upstreams`, created on first use for that config object. */
export function upstreamRegistry(config: { upstreams: readonly unknown[] }): UpstreamRegistry {
  let r = byConfig.get(config);
  if (!r) { r = new UpstreamRegistry(config.upstreams); byConfig.set(config, r); }
  return r;
}
