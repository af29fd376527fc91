import type { IncomingHttpHeaders } from 'node:http';
import type { ConsentType, MessageType, RecipientType } from '../../domain/types.ts';

/** The adapters of API.md `upstreams[].adapter`. */
export const ADAPTER_NAMES = ['netgsm', 'iletimerkezi', 'verimor', 'sendgrid', 'webhook', 'verimor-switch', 'netgsm-santral', 'asterisk-ari'] as const;
export type AdapterName = (typeof ADAPTER_NAMES)[number];

/** A sender's request as the proxy sees it, after the `/proxy/<name>` prefix is removed. */
export interface ProviderRequest {
  /** HTTP method, upper case. */
  method: string;
  /** The provider's own path, starting with `/` (e.g. `/sms/rest/v2/send`), without the query. */
  path: string;
  /** Inbound headers (lower-case names), as received. */
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON (adapters never see raw bytes). */
  body: unknown;
  /**
   * The query as forwarded (decoded once, provider-path.ts `providerQuery`); dialer APIs name the
   * called number there (Verimor `originate?destination=`, Netgsm `originate?customer_num=`, ARI
   * `channels?endpoint=`). Absent in older callers: treated as empty.
   */
  query?: URLSearchParams;
  /**
   * The body read as `application/x-www-form-urlencoded` when it is sent so (and is not JSON):
   * Verimor's `PATCH /ivr_campaigns/{id}` carries `key=…&status=…` this way. Absent otherwise.
   */
  form?: URLSearchParams;
}

/** What an upstream assumes when a request does not say (upstream config, see upstream-config.ts). */
export interface ReadDefaults {
  messageType: MessageType;
  recipientType: RecipientType;
  /** asterisk-ari: pattern finding the dialed number in an endpoint (named group `number`). */
  dialPattern?: string | undefined;
  /** asterisk-ari: endpoints matching it are internal (extensions): forwarded unscreened. */
  internalPattern?: string | undefined;
}

/**
 * What a provider request asks for: the recipients exactly as written (flattened, in body order),
 * the texts the promotional lint reads, and the İYS classification the sender declared.
 */
export interface ProviderMessage {
  type: ConsentType;
  /** Recipients as written in the body, in order; `rewrite` takes one keep-flag per entry. */
  recipients: string[];
  /** Message texts / e-mail subjects (for domain/promo-lint.ts). */
  texts: string[];
  /**
   * Set when part of the text is not in the request (a provider-side template, e.g. SendGrid
   * `template_id`): a short reason. The promotional policy then treats the message as promotional.
   */
  unseenText?: string;
  messageType: MessageType;
  recipientType: RecipientType;
  /** Brand named by the request itself (webhook shape), else null: the upstream's brand applies. */
  brandCode: number | null;
  /**
   * One call joining several parties (Verimor `bridge`, Netgsm `linkup`): the request cannot be
   * cut, so one refused party refuses all (the others reported `CALL_PARTY_REFUSED`).
   */
  indivisible?: boolean;
}

/** Result of `rewrite`: the body to forward and the indexes of kept recipients it could not carry. */
export interface RewriteResult {
  body: unknown;
  /**
   * Indexes (into `ProviderMessage.recipients`) that were allowed but are not forwarded because
   * the provider's shape cannot carry them alone (SendGrid: cc/bcc of a personalization whose
   * every `to` was removed). Reported with reason `PERSONALIZATION_WITHOUT_TO`.
   */
  dropped: number[];
}

/**
 * One provider format: a pure read/rewrite pair. Neither does I/O nor mutates its input.
 * - `read` → null when the request sends no message (reports, balance, …): passed through as is.
 * - `read` throws `Error` with a short reason when a send request cannot be understood (the route
 *   answers 400 GW_ERR_UPSTREAM_UNREADABLE and forwards nothing: fail closed).
 * - `rewrite(body, keep)` → a copy of `body` holding only recipients with `keep[i] === true`, in
 *   the provider's own shape; everything else in the body is kept as it was.
 */
export interface ProviderAdapter {
  readonly name: AdapterName;
  readonly type: ConsentType;
  read(req: ProviderRequest, defaults: ReadDefaults): ProviderMessage | null;
  rewrite(body: unknown, keep: readonly boolean[]): RewriteResult;
  /**
   * A copy of `body` that declares the message commercial (TICARI, to `recipientType`) in the
   * provider's own field, for a message sent as informational whose text promotes something
   * (policy `treat-as-commercial`: it lost the exemption, so the provider must not file it as
   * informational). Absent when the provider's request has no such field (SendGrid): checked as
   * TICARI, forwarded as is. Returns null when this request cannot carry the declaration (Netgsm
   * OTP): the message is then refused like policy `block` would.
   */
  markCommercial?(body: unknown, recipientType: RecipientType): unknown;
  /**
   * Lower-case provider paths known not to send anything (reports, cancel, inbox), forwarded
   * unscreened whatever the method. Every other request read() cannot read is refused unless it is a
   * GET/HEAD read (routes/proxy/index.ts: fail closed).
   */
  readonly readOnlyPaths?: readonly string[];
  /**
   * The lower-case provider paths at which `read` reads a send request (the webhook reads every
   * POST: its list names examples). The proxy's path property test generates encodings of each.
   */
  readonly sendPaths: readonly string[];
  /**
   * Whether a GET/HEAD to a path that does not look like a send endpoint passes unscreened as a
   * read (default true). False for the webhook: its receiver may act on any request, so only its
   * `passThroughPaths` go out unscreened.
   */
  readonly getReadsPass?: boolean;
  /**
   * Every provider user the request names (`gatewayAuth: provider`): Basic-auth user, body or
   * query field, API key. All must be allowed; none found → unauthorised. Absent: the adapter
   * has no provider credential (webhook).
   */
  providerUsers?(req: ProviderRequest, query: URLSearchParams): string[];
  /**
   * The gateway's refusal `answer` in the provider's own error shape (`errorFormat: provider`),
   * with a code the provider's SDK surfaces and `answer` itself inside. `path` is the request's key path.
   */
  refusal?(answer: GatewayAnswer, path: string): ProviderRefusal;
  /**
   * True for a request at a send path that sends nothing (Netgsm `autocallservice` events that
   * list, report or stop a campaign): forwarded unscreened, like `readOnlyPaths`.
   */
  readOnlyRequest?(req: ProviderRequest, defaults: ReadDefaults): boolean;
  /**
   * Rewrites the upstream's answer to an unscreened read before it is relayed (ARI api-docs name
   * the server's own base URL: pointed back at the gateway so clients never bypass it). `base` is
   * the gateway's own origin as the client reached it (`http://host:port`). Null: relay unchanged.
   */
  rewriteReadAnswer?(path: string, body: Buffer, base: string): Buffer | null;
  /** The campaign list of this provider's list endpoints (streamed when long), when it has one. */
  readonly listBody?: ListBodySpec;
}

/**
 * Where a provider's long number list sits in a JSON send body, so the proxy can stream it
 * (routes/proxy/list-stream.ts: split, screened in batches, rebuilt without the refused entries)
 * instead of parsing the body whole.
 */
export interface ListBodySpec {
  /** Canonical provider paths (lower case) whose POST body carries the list. */
  readonly paths: readonly string[];
  /** Key path of the list from the body's root object (`['phone_list']`). */
  readonly path: readonly string[];
  /**
   * The entries one list element holds, in order: the number it calls, the text spoken to it (if
   * any) and its value. `whole`: the element is one entry (kept, it is forwarded as its own
   * bytes); else each kept entry is forwarded as its JSON value (as `rewrite` would flatten it).
   * @throws UnreadableRequest for an element without a number
   */
  entries(element: unknown, index: number): { whole: boolean; entries: { recipient: string; text?: string | undefined; value: unknown }[] };
}

/** A coded answer of the gateway (API.md error shape plus proxy fields: requestId, outcome, counts, removed …). */
export interface GatewayAnswer { statusCode: number; code: string; message: string; field?: string; [k: string]: unknown }

/** A refusal as the provider would have written it. */
export interface ProviderRefusal { statusCode: number; contentType: string; body: string }

/** `user` of an `Authorization: Basic` header, or undefined. */
export function basicUser(h: IncomingHttpHeaders): string | undefined {
  const a = headerValue(h, 'authorization');
  if (!a || !/^basic /i.test(a)) return undefined;
  const dec = Buffer.from(a.slice(6).trim(), 'base64').toString('utf8');
  const i = dec.indexOf(':');
  return i === -1 ? dec : dec.slice(0, i);
}

/** The strings among `values` (first of each), for credential fields read from bodies and queries. */
export function presentStrings(...values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === 'string' && v !== '');
}

/** Thrown by `read` for a send request it cannot understand. */
export class UnreadableRequest extends Error {
  override name = 'UnreadableRequest';
}

/**
 * Thrown by `read` for a request it understands and refuses by a rule of its own (not a consent
 * decision): the route answers the coded error `code` (errors.ts) with `args`, forwarding nothing.
 */
export class RefusedRequest extends UnreadableRequest {
  override name = 'RefusedRequest';
  constructor(readonly code: 'GW_ERR_CAMPAIGN_RESTART_UNSCREENED', readonly args: unknown[]) { super(code); }
}

/** Type guard for plain JSON objects. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A header's single value (first of a list), or undefined. */
export function headerValue(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `TICARI`/`BILGILENDIRME` from a header value (case-insensitive), else undefined. */
export function parseMessageType(v: string | undefined): MessageType | undefined {
  const u = v?.trim().toUpperCase();
  return u === 'TICARI' || u === 'BILGILENDIRME' ? u : undefined;
}

/** `BIREYSEL`/`TACIR` from a value (case-insensitive), else undefined. */
export function parseRecipientType(v: unknown): RecipientType | undefined {
  const u = typeof v === 'string' ? v.trim().toUpperCase() : undefined;
  return u === 'BIREYSEL' || u === 'TACIR' ? u : undefined;
}
