import createError from '@fastify/error';

/**
 * The one registry of coded errors (STYLE.md habit 1). Every error the gateway answers with has a
 * stable `GW_ERR_*` code and an HTTP status; the README's error table lists the same set and
 * test/errors.test.ts fails when the two drift. Callers branch on `err.code`, never on text.
 *
 * Message templates use `%s` placeholders (util.format) filled at construction.
 */
export const ERROR_DEFINITIONS = {
  // --- request shape --------------------------------------------------------------------------
  GW_ERR_VALIDATION: { status: 400, message: 'Invalid request: %s' },
  GW_ERR_INVALID_RECIPIENT: { status: 400, message: 'Recipient cannot be normalized: %s' },
  GW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type: %s' },
  GW_ERR_BODY_TOO_LARGE: { status: 413, message: 'Request body exceeds %s bytes' },
  GW_ERR_BATCH_TOO_LARGE: { status: 413, message: 'Batch holds %s recipients; at most %s allowed' },
  GW_ERR_BAD_JSON: { status: 400, message: 'Body is not valid JSON: %s' },
  GW_ERR_NOT_FOUND: { status: 404, message: 'Route %s not found' },
  GW_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'Route %s takes %s, not %s' },
  GW_ERR_BAD_REQUEST: { status: 400, message: 'Malformed HTTP request' },
  GW_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'Request headers too large' },
  GW_ERR_REQUEST_TIMEOUT: { status: 408, message: 'Request not received in time' },
  GW_ERR_UNSUPPORTED_CHARSET: { status: 415, message: 'Unsupported charset %s; accepted: %s' },
  GW_ERR_SCRUB_LINE_TOO_LONG: { status: 400, message: 'Line %s: a record longer than %s bytes (config scrubMaxRecordBytes); the list was not scrubbed past it' },
  GW_ERR_SHUTTING_DOWN: { status: 503, message: 'The gateway is shutting down; retry on another instance' },
  // --- auth -----------------------------------------------------------------------------------
  GW_ERR_UNAUTHORIZED: { status: 401, message: 'Missing or unknown API key or credentials: /v1 routes take Authorization: Bearer <key>, /proxy/… takes X-IYS-Gate-Key: <key> (or a listed provider user), /v1/iys/push HTTP Basic (iys.push), /metrics as metricsAuth says' },
  GW_ERR_FORBIDDEN: { status: 403, message: 'API key does not hold %s' },
  GW_ERR_BRAND_REQUIRED: { status: 400, message: 'brandCode is required: %s' },
  GW_ERR_UNKNOWN_BRAND: { status: 400, message: 'brandCode %s is not a brand this gateway serves (%s)' },
  // --- mirror ---------------------------------------------------------------------------------
  GW_ERR_CONSENT_NOT_FOUND: { status: 404, message: 'No consent record for this brandCode, recipientType, type and recipient' },
  GW_ERR_NO_RECORD_AT: { status: 404, message: 'The mirror held no record of this key at %s (%s)' },
  GW_ERR_STORE_UNAVAILABLE: { status: 503, message: 'Consent store unavailable: %s' },
  GW_ERR_IMPORT_FORMAT: { status: 400, message: 'Unrecognised CSV header: %s; expected İYS\'s daily movement file or upload layout (README "Quick start", test/fixtures/iys-daily-sample.csv)' },
  GW_ERR_DECISION_LOG_UNAVAILABLE: { status: 503, message: 'Decision log cannot record: %s; nothing is decided or forwarded without its record (README "Proving decisions")' },
  GW_ERR_DECISION_NOT_FOUND: { status: 404, message: 'No decision with id %s in the decision log' },
  GW_ERR_STORE_CORRUPT: { status: 503, message: 'Data file %s is damaged (%s): the store was not opened; restore the file from a backup or move it aside and re-import the mirror (README "Data files")' },
  GW_ERR_DATA_DIR_LOCKED: { status: 503, message: 'Data directory in use by %s (lock file %s): stop that process first, or give this one its own dataDir (README "Data files")' },
  GW_ERR_LOG_CORRUPT: { status: 500, message: 'Data file %s is damaged at byte %s (%s): not truncated, records after it would be lost; see README "Data files"' },
  // --- calendar -------------------------------------------------------------------------------
  GW_ERR_CALENDAR_OUT_OF_RANGE: { status: 422, message: 'No holiday table for year %s (covered: %s)' },
  // --- config / boot --------------------------------------------------------------------------
  GW_ERR_CONFIG_INVALID: { status: 500, message: 'Invalid configuration: %s' },
  GW_ERR_TIMEZONE_SELF_CHECK: { status: 500, message: 'Europe/Istanbul offset self-check failed: %s' },
  // --- İYS client (src/iys/client.ts) -------------------------------------------------------
  GW_ERR_IYS_INVALID_CONSENT: { status: 422, message: 'Consent would be refused by İYS: %s' },
  GW_ERR_IYS_REJECTED: { status: 502, message: 'İYS refused the request (HTTP %s): %s' },
  GW_ERR_IYS_AUTH: { status: 502, message: 'İYS refused the credentials: %s' },
  GW_ERR_IYS_UNAVAILABLE: { status: 503, message: 'İYS unavailable: %s' },
  GW_ERR_IYS_TIMEOUT: { status: 504, message: 'İYS did not answer within %s ms' },
  GW_ERR_IYS_RATE_LIMITED: { status: 503, message: 'İYS rate limit reached: %s' },
  GW_ERR_IYS_TOKEN_HALTED: { status: 503, message: 'İYS token requests halted after H084 until %s' },
  GW_ERR_IYS_BUDGET_EXHAUSTED: { status: 429, message: 'Hourly İYS budget for %s exhausted until %s' },
  // --- proxy / upstreams (src/transports/http-proxy, src/routes/proxy) --------------------------
  GW_ERR_UPSTREAM_NOT_FOUND: { status: 404, message: 'No upstream named %s is configured' },
  GW_ERR_UPSTREAM_UNREADABLE: { status: 400, message: 'Request cannot be read as a %s message: %s' },
  GW_ERR_CAMPAIGN_RESTART_UNSCREENED: { status: 422, message: 'A campaign restart calls a list stored at the provider that iys-gate cannot re-screen (%s); refused unsent: submit the list again through the gateway' },
  GW_ERR_ARI_WS_REQUEST_REFUSED: { status: 400, message: 'A request sent over the ARI event WebSocket cannot be screened; use the REST API through the gateway' },
  GW_ERR_UPSTREAM_ALL_BLOCKED: { status: 422, message: 'Every recipient was removed (%s of %s); the upstream was not called' },
  GW_ERR_UPSTREAM_PROMOTIONAL_INFORMATIONAL: { status: 422, message: 'Message marked BILGILENDIRME reads as promotional (%s); policy blocks it; the upstream was not called' },
  GW_ERR_UPSTREAM_CONTENT_MISSING: { status: 422, message: 'Commercial message lacks %s (policy.contentCheck block); the upstream was not called' },
  GW_ERR_UPSTREAM_UNAVAILABLE: { status: 503, message: 'Upstream %s unreachable (%s); nothing was sent' },
  GW_ERR_UPSTREAM_CONNECT_TIMEOUT: { status: 504, message: 'Upstream %s: no connection within %s ms; nothing was sent' },
  GW_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'Upstream %s: no response within %s ms after the request was written; delivery unknown' },
  GW_ERR_UPSTREAM_DELIVERY_UNKNOWN: { status: 502, message: 'Upstream %s failed after the request was written (%s); delivery unknown, not retried' },
  GW_ERR_UPSTREAM_REDIRECT: { status: 502, message: 'Upstream %s answered %s (a redirect) to a screened request; not followed and not relayed (its Location is logged): nothing was accepted, check the upstream url' },
  GW_ERR_UPSTREAM_REPORT_NOT_FOUND: { status: 404, message: 'No removal report %s (expired or never made)' },
  GW_ERR_IYS_NOT_CONFIGURED: { status: 409, message: 'No İYS account is configured (config key iys, README "Sync with İYS"); a refusal is recorded without one by POST /v1/rejections' },
  // --- inbound replies (src/transports/inbound, src/routes/v1/inbound.ts) --------------------------
  GW_ERR_INBOUND_UNREADABLE: { status: 400, message: 'Inbound delivery cannot be read: %s' },
  GW_ERR_REVIEW_NOT_FOUND: { status: 404, message: 'No open review item %s' },
  // --- SMTP relay (src/transports/smtp; the SMTP reply code is in the README table) ---------------
  GW_ERR_SMTP_RECIPIENT_REFUSED: { status: 422, message: 'Recipient refused by the İYS consent decision (%s); it does not receive this message' },
  GW_ERR_SMTP_RECIPIENT_DEFERRED: { status: 503, message: 'Recipient cannot be decided now (%s); retry later' },
  GW_ERR_SMTP_ALL_REFUSED: { status: 422, message: 'Every recipient was refused (%s of %s); nothing was sent upstream' },
  GW_ERR_SMTP_TOO_MANY_RECIPIENTS: { status: 413, message: 'At most %s recipients per message (smtp.maxRecipients); send the rest in another transaction' },
  GW_ERR_SMTP_HEADER_TOO_LARGE: { status: 413, message: 'Header block over %s bytes (smtp.maxHeaderBytes); nothing was sent upstream' },
  GW_ERR_SMTP_BARE_LINE_FEED: { status: 400, message: 'Message holds a bare LF or CR (lines must end in CRLF, RFC 5322 §2.3); nothing was sent upstream' },
  GW_ERR_SMTP_BAD_HEADER: { status: 400, message: 'Header %s: %s' },
  GW_ERR_SMTP_UPSTREAM_DEFERRED: { status: 503, message: 'Upstream %s did not take the message (%s); nothing was acknowledged, retry later' },
  GW_ERR_SMTP_UPSTREAM_REFUSED: { status: 502, message: 'Upstream %s refused the message: %s' },
  GW_ERR_SMTP_UPSTREAM_PARTIAL: { status: 503, message: 'Upstream %s took the message for %s of %s recipients, not for the others (%s); retry the same message: the recipients that have it are not sent it again' },
  GW_ERR_UNSUBSCRIBE_TOKEN_INVALID: { status: 400, message: 'Unsubscribe link is not valid (forged, damaged or expired); nothing was recorded' },
  // --- internal -------------------------------------------------------------------------------
  GW_ERR_INTERNAL: { status: 500, message: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_DEFINITIONS;

/** A coded error instance: `code`, `statusCode`, optional `field` path and `cause`. */
export interface GatewayError extends Error {
  code: ErrorCode;
  statusCode: number;
  field?: string;
}

const constructors = new Map<ErrorCode, ReturnType<typeof createError>>();
for (const [code, def] of Object.entries(ERROR_DEFINITIONS) as [ErrorCode, { status: number; message: string }][]) {
  constructors.set(code, createError(code, def.message, def.status));
}

/**
 * Builds a coded error.
 * @param code  a key of ERROR_DEFINITIONS
 * @param args  values for the message's `%s` placeholders
 * @param opts  `field`: path of the input at fault (`recipients.7312`); `cause`: wrapped error
 */
export function gatewayError(
  code: ErrorCode,
  args: readonly unknown[] = [],
  opts: { field?: string; cause?: unknown } = {},
): GatewayError {
  const Ctor = constructors.get(code)!;
  const err = new Ctor(...(args as unknown[])) as unknown as GatewayError;
  if (opts.field !== undefined) err.field = opts.field;
  if (opts.cause !== undefined) (err as Error & { cause?: unknown }).cause = opts.cause;
  return err;
}

/**
 * `err` as a 503 GW_ERR_STORE_UNAVAILABLE: returned as it is when it already is one (no message
 * wrapped twice), else wrapped with `detail` (default a generic message) and `err` as the logged
 * cause (a driver's own text is not the client's business).
 */
export function storeUnavailable(err: unknown, detail = 'the store did not answer'): GatewayError {
  if ((err as { code?: unknown })?.code === 'GW_ERR_STORE_UNAVAILABLE' && isGatewayError(err)) return err;
  return gatewayError('GW_ERR_STORE_UNAVAILABLE', [detail], { cause: err });
}

/** True when `err` carries one of our codes. */
export function isGatewayError(err: unknown): err is GatewayError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string'
    && Object.hasOwn(ERROR_DEFINITIONS, (err as { code: string }).code);
}
