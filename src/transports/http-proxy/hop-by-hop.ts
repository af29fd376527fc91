import type { IncomingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) plus those undici sets itself or refuses (C27): never
 * forwarded in either direction. `content-length` is recomputed for the body actually sent (C26).
 */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect', 'http2-settings',
]);

/**
 * Headers with which some servers replace the request's path or method (IIS / Symfony / Zend
 * `X-Original-URL`, `X-Rewrite-URL`; method overrides): the proxy screens the path and method it
 * forwards (C37), so a header that would make the provider act on another is never forwarded.
 */
const PATH_OR_METHOD_OVERRIDES = new Set(['x-original-url', 'x-rewrite-url', 'x-override-url', 'x-http-method-override', 'x-http-method', 'x-method-override', 'x-forwarded-prefix', 'x-forwarded-uri', 'x-original-uri']);

/** Headers of the gateway itself, consumed here and never sent upstream. */
export const GATEWAY_HEADER_PREFIX = 'x-iys-';

/**
 * Request headers to send upstream: inbound ones minus hop-by-hop, minus every name listed in
 * `Connection`, minus `x-iys-*` (gateway controls such as the key), minus path and method
 * overrides (`X-Original-URL`, `X-HTTP-Method-Override`, …). Provider auth
 * (`authorization`, api keys) passes unchanged.
 */
export function forwardRequestHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const drop = connectionTokens(h.connection);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || drop.has(k) || k.startsWith(GATEWAY_HEADER_PREFIX) || PATH_OR_METHOD_OVERRIDES.has(k)) continue;
    out[k] = v;
  }
  return out;
}

/** Response headers to relay to the sender: upstream ones minus hop-by-hop and `Connection`-named. `content-length` is kept (the body is relayed unchanged). */
export function forwardResponseHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const drop = connectionTokens(h.connection);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || (HOP_BY_HOP.has(k) && k !== 'content-length') || drop.has(k)) continue;
    out[k] = v;
  }
  return out;
}

function connectionTokens(v: string | string[] | undefined): Set<string> {
  const s = new Set<string>();
  if (v === undefined) return s;
  for (const part of (Array.isArray(v) ? v.join(',') : v).split(',')) {
    const t = part.trim().toLowerCase();
    if (t) s.add(t);
  }
  return s;
}
