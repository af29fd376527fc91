import { z } from 'zod';
import { PROMOTIONAL_POLICIES } from '../../domain/promo-lint.ts';
import { gatewayError } from '../../errors.ts';
import { ADAPTER_NAMES } from './types.ts';

/**
 * One entry of config `upstreams` (API.md) with the proxy's extra keys (config/schema.ts keeps
 * them through `.passthrough()`; they are validated here, at boot, unknown ones refused). Units
 * are in the names; every default is stated.
 */
export const upstreamSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  adapter: z.enum(ADAPTER_NAMES),
  /** Base URL; `/proxy/<name>/<path>` goes to `<url>/<path>` (the URL's own path is a prefix). */
  url: z.string().url(),
  brandCode: z.number().int().positive(),
  /** Message type when a request does not say (Netgsm without `iysfilter`, SendGrid without header). Default TICARI (API.md default). */
  messageType: z.enum(['TICARI', 'BILGILENDIRME']).default('TICARI'),
  /** Recipient type when a request does not say. Default BIREYSEL (API.md default). */
  recipientType: z.enum(['BIREYSEL', 'TACIR']).default('BIREYSEL'),
  /**
   * How senders prove they may use this upstream: `key` (default) = header `X-IYS-Gate-Key: <api
   * key>` holding scope `proxy` and this upstream's brand; `none` = no gateway key (for clients
   * that can change only their base URL; restrict by network); `provider` = the provider's own
   * user, as the adapter reads it (Netgsm Basic-auth user or `usercode`, Verimor `username`,
   * iletiMerkezi `authentication.key`, SendGrid API key), must be in `providerUsers` or its sha256
   * in `providerUsersSha256` (issue 10 item 12: official SDKs work unchanged, no open proxy). The
   * provider's own credentials always pass through untouched.
   */
  gatewayAuth: z.enum(['key', 'none', 'provider']).default('key'),
  /** `gatewayAuth: provider`: provider users allowed through this upstream, exact. Default none. */
  providerUsers: z.array(z.string().min(1)).default([]),
  /**
   * `gatewayAuth: provider`: lower-case hex sha256 of allowed provider users (UTF-8), for users
   * that are secrets themselves (a SendGrid API key). Default none.
   */
  providerUsersSha256: z.array(z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex sha256')).default([]),
  /**
   * Shape of the gateway's own refusals (auth, unreadable, all blocked, promotional, upstream
   * failures) on this upstream: `gateway` = API.md error JSON; `provider` = the provider's own
   * error shape with a code its SDK surfaces and iys-gate's answer inside (`iysGate`). Default
   * `provider` with `gatewayAuth: provider`, else `gateway`.
   */
  errorFormat: z.enum(['gateway', 'provider']).optional(),
  /** BILGILENDIRME text that reads as promotional: overrides `policy.promotionalInformational`. */
  promotionalInformational: z.enum(PROMOTIONAL_POLICIES).optional(),
  /** TCP+TLS connect timeout in ms. Nothing was sent when it fires (503/504, safe to retry). Default 2,000. */
  connectTimeoutMs: z.number().int().positive().default(2_000),
  /** Max ms from request written to response headers (undici headersTimeout). Default 15,000. */
  headersTimeoutMs: z.number().int().positive().default(15_000),
  /** Max ms between response body chunks (undici bodyTimeout). Default 15,000. */
  bodyTimeoutMs: z.number().int().positive().default(15_000),
  /**
   * Idle keep-alive of pooled upstream sockets in ms; must be SHORTER than the provider's own idle
   * close (C28), also caps a server's `Keep-Alive: timeout` hint. Default 2,000 (providers commonly
   * close at 5 s).
   */
  keepAliveTimeoutMs: z.number().int().positive().default(2_000),
  /**
   * Exact provider paths (after `/proxy/<name>`) forwarded unscreened although the adapter cannot
   * read them, e.g. a balance query sent as POST. Default none: every request that is not a
   * readable send request nor a GET/HEAD read is refused (fail closed).
   */
  passThroughPaths: z.array(z.string().startsWith('/')).default([]),
  /** Max sockets to this upstream. Default 64. */
  connections: z.number().int().positive().default(64),
  /**
   * `asterisk-ari`: regular expression (JavaScript, case-insensitive) finding the dialed number in
   * a channel endpoint, with a named group `number`. Default dial-common.ts DEFAULT_DIAL_PATTERN
   * (`PJSIP/trunk/905321234567`, `SIP/…/0532…`, `Local/905…@ctx`, `DAHDI/g1/…`). An endpoint it does
   * not match is refused unsent (400 GW_ERR_UPSTREAM_UNREADABLE).
   */
  dialPattern: z.string().min(1).optional(),
  /** `asterisk-ari`: endpoints matching this regular expression are internal (e.g. `^PJSIP/[0-9]{3,5}$`): forwarded unscreened. Default none. */
  internalPattern: z.string().min(1).optional(),
  /**
   * `asterisk-ari`: also serve this upstream at the gateway's root `/ari/*` (ARI clients such as
   * ari-client address `<host>/ari/…` and cannot take a path prefix). At most one upstream. Default false.
   */
  ariRoot: z.boolean().default(false),
  /**
   * `sendgrid`: one-click unsubscribe (RFC 8058) on TICARI mail, as the SMTP relay does: `add`
   * puts `List-Unsubscribe: <…/u/TOKEN>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
   * into the `headers` of every personalization with exactly one recipient (the token names
   * that recipient; a personalization shared by several gets none: one link cannot name them
   * all), unless the sender set List-Unsubscribe there or top-level; `keep` (default) changes
   * nothing; `off` removes the sender's List-Unsubscribe headers. `add` needs `unsubscribe` (or
   * `smtp.unsubscribe`) in the config.
   */
  listUnsubscribe: z.enum(['add', 'keep', 'off']).default('keep'),
}).strict().superRefine((u, ctx) => {
  if (u.listUnsubscribe !== 'keep' && u.adapter !== 'sendgrid') ctx.addIssue({ code: 'custom', path: ['listUnsubscribe'], message: 'only for the sendgrid adapter' });
  for (const k of ['dialPattern', 'internalPattern'] as const) {
    const src = u[k];
    if (src === undefined) continue;
    if (u.adapter !== 'asterisk-ari') ctx.addIssue({ code: 'custom', path: [k], message: 'only for the asterisk-ari adapter' });
    try {
      const re = new RegExp(src, 'iu');
      if (k === 'dialPattern' && !/\(\?<number>/.test(re.source)) ctx.addIssue({ code: 'custom', path: [k], message: 'needs a named group (?<number>…)' });
    } catch (err) { ctx.addIssue({ code: 'custom', path: [k], message: `not a regular expression: ${(err as Error).message}` }); }
  }
  if (u.ariRoot && u.adapter !== 'asterisk-ari') ctx.addIssue({ code: 'custom', path: ['ariRoot'], message: 'only for the asterisk-ari adapter' });
  if (u.gatewayAuth !== 'provider') return;
  if (u.adapter === 'webhook') ctx.addIssue({ code: 'custom', path: ['gatewayAuth'], message: 'the webhook adapter has no provider credential: use key or none' });
  if (u.providerUsers.length + u.providerUsersSha256.length === 0) ctx.addIssue({ code: 'custom', path: ['providerUsers'], message: 'gatewayAuth provider needs providerUsers or providerUsersSha256' });
});

export type UpstreamConfig = z.infer<typeof upstreamSchema>;

/**
 * Validates the `upstreams` list (extra keys included).
 * @throws GW_ERR_CONFIG_INVALID listing every issue (path `upstreams.<i>.<key>`), or a duplicate name.
 */
export function parseUpstreams(list: readonly unknown[]): UpstreamConfig[] {
  const out: UpstreamConfig[] = [];
  const issues: string[] = [];
  list.forEach((u, i) => {
    const r = upstreamSchema.safeParse(u);
    if (r.success) out.push(r.data);
    else for (const e of r.error.issues) issues.push(`upstreams.${i}.${e.path.join('.')}: ${e.message}`);
  });
  const seen = new Set<string>();
  for (const u of out) { if (seen.has(u.name)) issues.push(`upstreams: duplicate name ${u.name}`); seen.add(u.name); }
  if (out.filter((u) => u.ariRoot).length > 1) issues.push('upstreams: ariRoot is set on more than one upstream');
  if (issues.length > 0) throw gatewayError('GW_ERR_CONFIG_INVALID', [issues.join('; ')]);
  return out;
}
