import { z } from 'zod';
import { upstreamSchema } from '../transports/http-proxy/upstream-config.ts';
import { keySmtpSchema, smtpSchema, unsubscribeSchema } from '../transports/smtp/config.ts';
import { brandEntrySchema, contentCheckSchema, inboundSchema } from './inbound-schema.ts';
import { smppSchema } from '../transports/smpp/config.ts';
import { agiSchema } from '../transports/agi/config.ts';

/** Actions an API key may be scoped to. `*` grants all. */
export const SCOPES = ['check', 'rejections', 'consents', 'import', 'outbox', 'proxy', 'admin', 'metrics', 'audit', 'smtp', 'console'] as const;
export type Scope = (typeof SCOPES)[number];

const brandCode = z.number().int().positive();

/** One API key: `key` (plain, hashed at load and never kept) or `keyHash` (sha256 hex). */
const apiKey = z.object({
  name: z.string().min(1),
  key: z.string().min(16).optional(),
  keyHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** Brands the key may act for; `'*'` = every brand this gateway serves. */
  brands: z.union([z.literal('*'), z.array(brandCode).min(1)]).default('*'),
  scopes: z.union([z.literal('*'), z.array(z.enum(SCOPES)).min(1)]).default('*'),
  /** SMTP relay (scope `smtp`): brand, message and recipient type of the mail this key submits (transports/smtp/config.ts). */
  smtp: keySmtpSchema.optional(),
}).strict().refine((k) => (k.key === undefined) !== (k.keyHash === undefined), { message: 'give exactly one of key, keyHash' });

/**
 * The gateway's configuration. Units live in the names; every default is stated here and in the
 * README's configuration table. Unknown keys are an error (`.strict()`).
 */
export const configSchema = z.object({
  /** TCP port; 0 picks a free one. Default 8080. Env IYS_GATE_PORT. */
  port: z.number().int().min(0).max(65535).default(8080),
  /** Listen address. Default 127.0.0.1 (the Docker image sets 0.0.0.0). Env IYS_GATE_HOST. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Directory of the embedded store's journal, snapshots and the generated key hash. Default ./data. */
  dataDir: z.string().min(1).default('./data'),
  /**
   * Embedded store kind (without `redisUrl`): `lmdb` (default: `<dataDir>/mirror/consents.mdb`,
   * memory-mapped, instant restart and shutdown at any size, the mirror outside the V8 heap;
   * chosen by the figures of bench/README.md; a memory-store directory is migrated at first start)
   * or `memory` (the whole mirror in the V8 heap, journal + snapshot files). Env IYS_GATE_STORE.
   */
  store: z.enum(['lmdb', 'memory']).default('lmdb'),
  /**
   * Redis URL; unset = embedded store. Env IYS_GATE_REDIS_URL. With `redis.cluster`, one or more
   * comma-separated seed URLs of a Redis Cluster.
   */
  redisUrl: z.string().min(1).refine((v) => v.split(',').every((u) => /^rediss?:\/\/[^\s]+$/.test(u.trim())), { message: 'redis:// or rediss:// URL(s), comma-separated' }).optional(),
  redis: z.object({
    /** `redisUrl` names Redis Cluster seed nodes (keys are hash-tagged per bucket). Default false. */
    cluster: z.boolean().default(false),
    /** Prefix of every Redis key. Default `iysgate:`. */
    keyPrefix: z.string().min(1).default('iysgate:'),
    /** Base bound of one Redis round trip in ms; a lookup past its bound fails closed. Default 30 (p99 ≤ 50 ms with Redis hung). */
    commandTimeoutMs: z.number().int().positive().default(30),
    /** Bound added per key of work Redis does before it answers a lookup (its own and what is in flight ahead of it), in µs. Default 100. */
    timeoutPerKeyUs: z.number().int().min(0).default(100),
    /** Most a single lookup's bound may widen to after slow recent replies (a loaded host), in ms. Default: commandTimeoutMs (off). */
    timeoutCapMs: z.number().int().positive().optional(),
    /** Keys per pipelined Redis call of a batch lookup (each call its own bound). Default 500. */
    readSliceKeys: z.number().int().positive().default(500),
    /** In-process cache: max entries (0 disables the cache). Default 100,000. */
    cacheMaxEntries: z.number().int().min(0).default(100_000),
    /** In-process cache: max bytes (approximate). Default 64 MiB. */
    cacheMaxBytes: z.number().int().min(0).default(64 * 1024 * 1024),
    /**
     * Most bytes of one upload job's input (`POST /v1/iys/uploads`) held in Redis until the job's
     * plan is stored (a fleet: any instance may resume the job). Past it: 413 GW_ERR_BODY_TOO_LARGE.
     * Default 256 MiB (~3.5 million rows of the İYS upload layout).
     */
    uploadMaxBytes: z.number().int().positive().default(256 * 1024 * 1024),
  }).strict().default({}),
  /**
   * API keys (README "API keys": which are live). Plain keys copied from documentation (`change-me…`,
   * the README's examples) are refused at boot (config/load.ts), so no example file holds a usable secret.
   */
  apiKeys: z.array(apiKey).default([]),
  /**
   * Brands this gateway serves, besides `iys.brands`. Set (or with `iys`), a brandCode outside them
   * is 400 GW_ERR_UNKNOWN_BRAND on every entrance, and every key's brands and every upstream's
   * brandCode must be among them (checked at boot). Default unset: any brand a key holds is taken.
   */
  brands: z.array(brandEntrySchema).min(1).optional(),
  /**
   * Who may read GET /metrics: `none` (default: open, as on 127.0.0.1), `key` (Bearer API key with
   * scope `metrics` or `*`), or `{username, password}` (HTTP Basic). Set it when `host` is 0.0.0.0.
   */
  metricsAuth: z.union([z.enum(['none', 'key']), z.object({ username: z.string().min(1), password: z.string().min(12) }).strict()]).default('none'),
  /** Max JSON request body in bytes. Default 4 MiB (10,000 recipients of 320 characters fit). */
  bodyLimitBytes: z.number().int().positive().default(4 * 1024 * 1024),
  /**
   * Dialer campaign lists (Verimor `phone_list`, Netgsm `data.numbers`) at their canonical proxy
   * paths (routes/proxy/list-stream.ts, README "Calls"): a body up to `streamAboveBytes` (1 MiB)
   * is screened whole; a longer one, up to `maxBodyBytes` (64 MiB), is spooled to a temporary
   * directory and screened in batches of `batchSize` (10,000) entries, memory bounded by the batch.
   */
  listStream: z.object({
    maxBodyBytes: z.number().int().positive().default(64 * 1024 * 1024),
    streamAboveBytes: z.number().int().nonnegative().default(1024 * 1024),
    batchSize: z.number().int().min(1).max(100_000).default(10_000),
  }).strict().default({}),
  /** Max CSV import body in bytes (streamed). Default 4 GiB. */
  importBodyLimitBytes: z.number().int().positive().default(4 * 1024 * 1024 * 1024),
  /**
   * Max bytes of one call-list record in `POST /v1/scrub` / `iys-gate scrub` (a line, or a CSV
   * record with quoted line breaks; line break excluded). Past it: 400 GW_ERR_SCRUB_LINE_TOO_LONG
   * naming the line, and the rest of the record is never held. Default 65,536 (64 KiB).
   */
  scrubMaxRecordBytes: z.number().int().positive().default(64 * 1024),
  /**
   * Request line + headers must arrive within this many ms of the request's first byte; past it
   * 408 GW_ERR_REQUEST_TIMEOUT and the connection closes (enforced within 1/10 of the bound). Default 20,000.
   */
  headersTimeoutMs: z.number().int().positive().default(20_000),
  /**
   * A request body that receives no byte for this many ms while the gateway waits for it is
   * answered 408 and its connection closed (every route, streaming ones included). 0 = off. Default 20,000.
   */
  bodyIdleTimeoutMs: z.number().int().min(0).default(20_000),
  /**
   * A non-streaming request's body (JSON routes, proxy) must be fully received within this many ms
   * of its headers, else 408. Streaming CSV routes (import, upload, scrub) are bounded by
   * `bodyIdleTimeoutMs` only. 0 = off. Default 30,000.
   */
  requestTimeoutMs: z.number().int().min(0).default(30_000),
  /**
   * At SIGTERM/SIGINT in-flight requests get this many ms to finish (their answers carry
   * `Connection: close`); those still open are then answered 503 GW_ERR_SHUTTING_DOWN or cut. Default 1,000.
   */
  shutdownDrainMs: z.number().int().min(0).default(1_000),
  /**
   * Bound in ms of the whole shutdown (drain, outbox and journal writes, store close); past it the
   * process exits with status 1. Default 10,000.
   */
  shutdownTimeoutMs: z.number().int().positive().default(10_000),
  /**
   * Where `POST /v1/mirror/import` and `iys-gate import` parse and validate their CSV: `worker`
   * (a worker thread, at most one import per core on workers, further parallel imports on the
   * loop; on the LMDB store a second worker writes the rows while the first parses, on the
   * memory store the request loop applies them) or `loop` (the request loop, in 2 ms slices).
   * Default `worker` (bench/README.md, "Imports and checks", "Session 4").
   */
  importParser: z.enum(['worker', 'loop']).default('worker'),
  /** Max recipients in one /v1/check/batch. Default 10,000 (API.md). */
  batchMaxRecipients: z.number().int().positive().max(100_000).default(10_000),
  /**
   * Freshness bound in ms: when the mirror was last known fresh longer ago than this, TICARI
   * answers MIRROR_STALE. 0 disables the check. Default: 7,200,000 (2 h) when `iys` is configured
   * (pull every 5 min, so 2 h means ~24 failed cycles), else 0.
   */
  mirrorMaxAgeMs: z.number().int().min(0).optional(),
  policy: z.object({
    /** TICARI to a TACIR without record: allow (default, opt-out) or block. */
    tacirWithoutRecord: z.enum(['allow', 'block']).default('allow'),
    /**
     * TICARI to a TACIR without a TACIR record whose BIREYSEL record is RET: block (default,
     * BIREYSEL_RET_TACIR_UNPROVEN) or allow (trust the sender's TACIR flag). domain/policy.ts.
     */
    tacirOverBireyselRet: z.enum(['block', 'allow']).default('block'),
    /** Arife afternoons and 28 Oct: count as business days (default, safer) or as holidays. */
    halfDayPolicy: z.enum(['business', 'holiday']).default('business'),
    /**
     * A BILGILENDIRME message whose text promotes a product loses the exemption (DOMAIN.md §1.5;
     * domain/promo-lint.ts): `block` it, `treat-as-commercial` (default: consent needed), or `warn`.
     */
    promotionalInformational: z.enum(['block', 'treat-as-commercial', 'warn']).default('treat-as-commercial'),
    /**
     * TICARI texts must carry a refusal instruction (a keyword + number, or an unsubscribe link) and
     * the sender identity (`brands[].identity`): `warn` (default: header `X-IYS-Gate-Content:
     * missing=…` and a metric), `block` (the message is refused), `off` (check/screening.ts).
     */
    contentCheck: contentCheckSchema,
  }).strict().default({}),
  /** pino level. Default info. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** İYS (or simulator) account to sync with (API.md). */
  iys: z.object({
    baseUrl: z.string().url(),
    iysCode: z.number().int().positive(),
    username: z.string().min(1),
    password: z.string().min(1),
    brands: z.array(brandCode).min(1),
    /** HTTP Basic credentials İYS uses for push deliveries to POST /v1/iys/push; unset = push off. */
    push: z.object({ username: z.string().min(1), password: z.string().min(8) }).strict().optional(),
    /** Pull cycle period in ms (changes feed, both sources). Default 300,000 (5 min); 0 = no pull loop. */
    pullIntervalMs: z.number().int().min(0).default(300_000),
    /** Outbox upload period in ms. Default 10,000; 0 = no upload loop. */
    uploadIntervalMs: z.number().int().min(0).default(10_000),
    /** Wait before polling a batch's results, in ms. Default 300,000 (İYS: no earlier than 300 s). */
    batchPollAfterMs: z.number().int().min(0).default(300_000),
    /** First back-off after a retryable upload failure, in ms (doubles each attempt, capped at 15 min). Default 5,000. */
    uploadRetryBaseMs: z.number().int().positive().default(5_000),
    /** Reconcile yesterday against İYS's daily file and SHA-384 value once a day (checked hourly). Default true. */
    reconcileDaily: z.boolean().default(true),
    /**
     * With `redisUrl` (a fleet): period of the İYS-work lease in ms. One instance at a time pulls,
     * uploads and reconciles; another takes over within this long of its death. Default 15,000.
     */
    leaseMs: z.number().int().min(100).default(15_000),
    /** İYS request timeout in ms. Default 10,000. */
    requestTimeoutMs: z.number().int().positive().default(10_000),
    /** Clock skew against İYS (its answers' `Date` header) past which a warning is logged, in ms. Default 60,000. */
    clockSkewWarnMs: z.number().int().positive().default(60_000),
  }).strict().optional(),
  consents: z.object({
    /**
     * An ONAY the company collected counts as consent only once İYS accepted it (default false:
     * strict, DOMAIN.md §2). true applies it to the mirror at once.
     */
    onayEffectiveBeforeAck: z.boolean().default(false),
  }).strict().default({}),
  /** Replies read for refusals (issue 14; config/inbound-schema.ts, README "Refusals from replies"). */
  inbound: inboundSchema,
  /**
   * The decision log (README "Proving decisions"; src/check/decision-log/): every decision of every
   * entrance as a 46-byte record in hash-chained segments under `<dataDir>/decisions/`.
   */
  decisions: z.object({
    /** `all` (default: checks too), `sends` (forwarding entrances only: proxy, /v1/send, SMTP, SMPP, dialers), `off`. */
    log: z.enum(['all', 'sends', 'off']).default('all'),
    /** Whole segments whose last record is older than this are deleted (and listed as removed in the manifest). Default 1,095 (3 years). */
    retentionDays: z.number().int().positive().default(1095),
    /** A check's record is on disk within this many ms (forwarding entrances wait for theirs). Default 200. */
    flushMs: z.number().int().positive().max(10_000).default(200),
    /** Segment size past which the log rotates (it also rotates each Istanbul day), bytes. Default 67,108,864 (64 MiB). */
    segmentBytes: z.number().int().min(4096).default(64 * 1024 * 1024),
    /**
     * Recipient HMAC keys `[{id: 0–255, key}]` (key: hex or base64, 16–64 bytes). New records use
     * `hmacKeyId` (default: the highest id); the others stay to find older records. Unset: one key
     * generated into `<dataDir>/decision-keys.json` (mode 0600) at first start.
     */
    hmacKeys: z.array(z.object({ id: z.number().int().min(0).max(255), key: z.string().min(22) }).strict()).min(1).optional(),
    hmacKeyId: z.number().int().min(0).max(255).optional(),
    /** Optional AES-256-GCM key (64 hex digits or base64 of 32 bytes): the recipients are also stored encrypted, for authorised exports. */
    encryptionKey: z.string().min(43).optional(),
    /** More directories of decision logs to query (other instances of a fleet, on a shared volume); this instance's own is always read. */
    readDirs: z.array(z.string().min(1)).default([]),
    /** Where hashing, chaining and fsync run: `worker` (default, a writer thread) or `inline` (the request loop). */
    writer: z.enum(['worker', 'inline']).default('worker'),
  }).strict().default({}),
  /** Providers the proxy forwards to (API.md; every key: transports/http-proxy/upstream-config.ts). */
  /** SMTP submission relay (transports/smtp/config.ts, README "Sending e-mail through iys-gate"); unset = off. */
  smtp: smtpSchema.optional(),
  /**
   * One-click unsubscribe links for the SendGrid-shaped proxy (`upstreams[].listUnsubscribe: add`)
   * when `smtp.unsubscribe` is not set (transports/smtp/config.ts `unsubscribeSchema`); unset = none.
   */
  unsubscribe: unsubscribeSchema.optional(),
  upstreams: z.array(upstreamSchema).default([])
    .refine((l) => new Set(l.map((u) => u.name)).size === l.length, { message: 'upstream names must be unique' }),
  /** The SMPP front (README "SMPP"; every key: transports/smpp/config.ts). Unset = off. */
  smpp: smppSchema.optional(),
  /** The FastAGI pre-dial hook for Asterisk (README "Calls"; every key: transports/agi/config.ts). Unset = off. */
  agi: agiSchema.optional(),
}).strict();

export type GatewayConfig = z.infer<typeof configSchema>;
export type GatewayConfigInput = z.input<typeof configSchema>;
