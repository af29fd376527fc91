import { createHash } from 'node:crypto';
import type { ProviderAdapter, ProviderRequest } from './types.ts';
import type { UpstreamConfig } from './upstream-config.ts';

const allowed = new WeakMap<UpstreamConfig, Set<string>>();

function sha256(s: string): string { return createHash('sha256').update(s, 'utf8').digest('hex'); }

/**
 * `gatewayAuth: provider` (issue 10 item 12): true when the request names at least one provider
 * user (adapter `providerUsers`: Netgsm Basic-auth user / `usercode`, Verimor `username`,
 * iletiMerkezi `authentication.key`, SendGrid API key) and every user it names is in the
 * upstream's `providerUsers` or has its sha256 in `providerUsersSha256`. Users are compared by
 * their sha256, so the plain list and the hash list behave alike.
 * The provider still checks the password; the gateway only refuses accounts that are not yours.
 */
export function providerAuthorized(config: UpstreamConfig, adapter: ProviderAdapter, req: ProviderRequest, query: URLSearchParams): boolean {
  if (!adapter.providerUsers) return false;
  let set = allowed.get(config);
  if (!set) { set = new Set([...config.providerUsers.map(sha256), ...config.providerUsersSha256]); allowed.set(config, set); }
  const users = adapter.providerUsers(req, query);
  return users.length > 0 && users.every((u) => set.has(sha256(u)));
}
