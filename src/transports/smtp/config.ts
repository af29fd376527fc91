import { z } from 'zod';

/**
 * One-click unsubscribe links `<baseUrl>/u/<token>` (RFC 8058; routes/unsubscribe.ts): config
 * `smtp.unsubscribe` for the SMTP relay, top-level `unsubscribe` for the SendGrid-shaped proxy
 * (`upstreams[].listUnsubscribe: add`) when no SMTP relay runs. A token signed with either
 * secret is honoured by `/u/<token>`.
 */
export const unsubscribeSchema = z.object({
  /** Public base URL of this gateway's HTTP port, e.g. `https://gate.example.com`. */
  baseUrl: z.string().url().refine((u) => /^https?:\/\//.test(u), 'http(s) URL'),
  /** HMAC-SHA256 key of the tokens, ≥ 32 characters (`openssl rand -base64 32`). */
  secret: z.string().min(32),
  /** The sender's own unsubscribe mailbox, added as a second `<mailto:…>` entry. Default none. */
  mailto: z.string().email().optional(),
  /** Tokens older than this many ms are refused (400). Default 31,536,000,000 (365 days); 0 = never. */
  tokenMaxAgeMs: z.number().int().min(0).default(365 * 24 * 3600 * 1000),
}).strict();

/** The unsubscribe link settings. */
export type UnsubscribeConfig = z.infer<typeof unsubscribeSchema>;

/**
 * Config key `smtp`: the SMTP submission relay (README "Sending e-mail through iys-gate"). Off
 * unless set. Units are in the names; every default is stated here and in the README table.
 */
export const smtpSchema = z.object({
  /** Listener name: the `via` of screenings and the `upstream` of removal reports, a metric label. Default `smtp`. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).default('smtp'),
  /** TCP port of the listener; 0 picks a free one. Default 2525. */
  port: z.number().int().min(0).max(65535).default(2525),
  /** Listen address. Default 127.0.0.1. */
  host: z.string().min(1).default('127.0.0.1'),
  /** STARTTLS with these PEM files (paths); unset = no STARTTLS (AUTH then only over loopback or `allowInsecureAuth`). */
  tls: z.object({ key: z.string().min(1), cert: z.string().min(1) }).strict().optional(),
  /** Allow AUTH without TLS (default true when `tls` is unset: a loopback listener; false with `tls`). */
  allowInsecureAuth: z.boolean().optional(),
  /** Concurrent SMTP connections; past it new ones get 421. Default 100. */
  maxConnections: z.number().int().positive().default(100),
  /** Max message size in bytes (announced by SIZE; past it 552 5.3.4). Default 10,485,760 (10 MiB). */
  maxMessageBytes: z.number().int().positive().default(10 * 1024 * 1024),
  /** Max header block of a message in bytes (past it 552 5.3.4). Default 262,144 (256 KiB). */
  maxHeaderBytes: z.number().int().positive().default(256 * 1024),
  /** Max envelope recipients of one message (past it 452 4.5.3). Default 1,000. */
  maxRecipients: z.number().int().positive().default(1000),
  /** A connection idle this long (ms) is closed with 421. Default 60,000. */
  idleTimeoutMs: z.number().int().positive().default(60_000),
  /** DATA must be complete within this many ms of its start, else 451 4.4.2 and the connection closes. Default 300,000. */
  dataTimeoutMs: z.number().int().positive().default(300_000),
  /** Bytes of text the promotional lint reads (Subject + first text part, decoded). Default 65,536. */
  lintMaxBytes: z.number().int().positive().default(64 * 1024),
  /**
   * How long (ms) the relay remembers which recipients already have a message the upstream took
   * only for some of them, so that the client's retry is not sent to them again (README
   * "Partial upstream failures"). In memory: a restart forgets it (a retry may then duplicate,
   * never skip). Default 432,000,000 (5 days, Postfix's `maximal_queue_lifetime`).
   */
  retryMemoryMs: z.number().int().positive().default(5 * 24 * 3600 * 1000),
  /** Recipients held by that memory over all messages; past it the oldest messages are forgotten. Default 100,000. */
  retryMemoryRecipients: z.number().int().positive().default(100_000),
  /** Send a DSN (RFC 3464) to the envelope sender for recipients refused after DATA. Default false. */
  dsn: z.boolean().default(false),
  /**
   * RFC 8058 headers on TICARI mail: `add` (default: add List-Unsubscribe + List-Unsubscribe-Post
   * unless the sender set List-Unsubscribe), `keep` (never add; keep the sender's), `off` (remove
   * the sender's too). `add` needs `unsubscribe`.
   */
  listUnsubscribe: z.enum(['add', 'keep', 'off']).default('add'),
  /** One-click unsubscribe links (`<baseUrl>/u/<token>`), needed by `listUnsubscribe: add`. */
  unsubscribe: unsubscribeSchema.optional(),
  /** DKIM-sign every forwarded message after the headers were added (nodemailer DKIM). */
  dkim: z.object({
    domainName: z.string().min(1),
    keySelector: z.string().min(1),
    /** Path of the PEM private key. */
    privateKeyFile: z.string().min(1),
  }).strict().optional(),
  /** The sender's real outbound SMTP service. */
  upstream: z.object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** Implicit TLS (port 465). Default false (STARTTLS when offered). */
    secure: z.boolean().default(false),
    auth: z.object({ user: z.string().min(1), pass: z.string().min(1) }).strict().optional(),
    /** Reuse connections (nodemailer pool). Default true. */
    pool: z.boolean().default(true),
    /** Pooled connections at most. Default 5. */
    maxConnections: z.number().int().positive().default(5),
    /** Bound of connecting and of each upstream reply, in ms; past it the client gets 451. Default 30,000. */
    timeoutMs: z.number().int().positive().default(30_000),
    /**
     * A per-recipient copy (one-click links) the upstream did not take for a temporary reason
     * (4xx, timeout, unreachable) is sent again up to this many times. Default 2.
     */
    retries: z.number().int().min(0).max(10).default(2),
    /** Wait before the first such retry in ms, doubled for each next one; no retry starts later than `timeoutMs` after the first attempt. Default 200. */
    retryDelayMs: z.number().int().min(0).default(200),
    /** Verify the upstream's certificate. Default true. */
    rejectUnauthorized: z.boolean().default(true),
  }).strict(),
}).strict().refine((s) => s.listUnsubscribe !== 'add' || s.unsubscribe !== undefined, {
  message: 'smtp.listUnsubscribe add needs smtp.unsubscribe {baseUrl, secret} (or set listUnsubscribe: keep | off)', path: ['unsubscribe'],
});

export type SmtpConfig = z.infer<typeof smtpSchema>;

/** Per API key: what mail through the SMTP relay is, when the key has scope `smtp`. */
export const keySmtpSchema = z.object({
  /** Brand of the mail; required when the key holds several brands (or `*`). */
  brandCode: z.number().int().positive().optional(),
  /**
   * `TICARI` (default): decided at RCPT TO; `BILGILENDIRME`: decided after DATA (the promotional
   * lint reads the text; a header `X-IYS-Message-Type: TICARI` makes it commercial).
   */
  messageType: z.enum(['TICARI', 'BILGILENDIRME']).default('TICARI'),
  recipientType: z.enum(['BIREYSEL', 'TACIR']).default('BIREYSEL'),
}).strict();

export type KeySmtp = z.infer<typeof keySmtpSchema>;
