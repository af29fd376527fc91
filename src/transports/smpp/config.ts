import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { gatewayError } from '../../errors.ts';
import { PROMOTIONAL_POLICIES } from '../../domain/promo-lint.ts';
import { statusCode } from './pdu.ts';

/** An SMPP status: a node-smpp name (`ESME_RX_R_APPN`) or a number (0x66 = 102). */
const status = z.union([
  z.number().int().min(1).max(0xffffffff),
  z.string().refine((s) => statusCode(s) !== undefined, { message: 'an SMPP status name such as ESME_RX_R_APPN' }),
]).transform((v) => (typeof v === 'number' ? v : statusCode(v)!));

/**
 * One ESME account iys-gate accepts (config `smpp.binds[]`). `password` (plain, ≤ 9 characters as
 * SMPP 3.4 §4.1 allows) or `passwordSha256` (lower-case hex sha256 of it).
 */
export const smppBindSchema = z.object({
  systemId: z.string().min(1).max(15),
  password: z.string().min(1).max(8).optional(),
  passwordSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  brandCode: z.number().int().positive(),
  /** Message type of its messages unless the message-type TLV says otherwise. Default TICARI. */
  messageType: z.enum(['TICARI', 'BILGILENDIRME']).default('TICARI'),
  /** Default BIREYSEL. */
  recipientType: z.enum(['BIREYSEL', 'TACIR']).default('BIREYSEL'),
  /** Name of the `smpp.upstreams[]` entry its allowed messages go to. */
  upstream: z.string().min(1),
  /** Submits per second across all its sessions; past it `ESME_RTHROTTLED`. 0 = no limit. Default 0. */
  throughputPerSecond: z.number().int().min(0).default(0),
  /** Submits in flight per session (not yet answered); past it `ESME_RMSGQFUL`. Default 100. */
  maxWindow: z.number().int().positive().max(10_000).default(100),
  /** BILGILENDIRME text that reads as promotional: overrides `policy.promotionalInformational`. */
  promotionalInformational: z.enum(PROMOTIONAL_POLICIES).optional(),
  /** Mobile-originated messages of its upstream are relayed to this account (first such bind of the upstream). Default true. */
  receiveMo: z.boolean().default(true),
}).strict().refine((b) => (b.password === undefined) !== (b.passwordSha256 === undefined), { message: 'give exactly one of password, passwordSha256' });

/** One upstream SMSC iys-gate binds to as a client (config `smpp.upstreams[]`). */
export const smppUpstreamSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  /** `smpp://host:port` (or `ssmpp://` for TLS). */
  url: z.string().regex(/^s?smpp:\/\/[^\s/:]+:\d+\/?$/, 'smpp://host:port or ssmpp://host:port'),
  /** `ssmpp://` only: PEM file of the CA(s) that sign the upstream's certificate, beside the system's. Unset = the system's CAs. The certificate is always verified. */
  caFile: z.string().min(1).optional(),
  systemId: z.string().min(1).max(15),
  password: z.string().max(8).default(''),
  systemType: z.string().max(12).default(''),
  /** transceiver (default: receipts and MO come back on the same binds) or transmitter. */
  bindType: z.enum(['transceiver', 'transmitter']).default('transceiver'),
  /** Binds kept open to it. Default 1. */
  binds: z.number().int().positive().max(64).default(1),
  /** PDUs in flight per bind. Default 100. */
  window: z.number().int().positive().max(10_000).default(100),
  /** enquire_link after this many ms without traffic. Default 30,000. */
  enquireLinkMs: z.number().int().positive().default(30_000),
  /** A request (bind, submit, enquire_link) unanswered after this many ms: the submit is answered with the temporary status and logged as delivery unknown; an enquire_link closes the bind. Default 10,000. */
  responseTimeoutMs: z.number().int().positive().default(10_000),
  /** First reconnect delay after a lost or refused bind (ms), doubling up to `reconnectMaxMs`. Default 500. */
  reconnectMinMs: z.number().int().positive().default(500),
  /** Default 30,000. */
  reconnectMaxMs: z.number().int().positive().default(30_000),
}).strict();

/** Config key `smpp`: the SMPP front (README "SMPP"). Unset = off. */
export const smppSchema = z.object({
  /** Port the SMSC side listens on. Default 2775 (0 = any free port). */
  port: z.number().int().min(0).max(65535).default(2775),
  /** Listen address. Default 127.0.0.1. */
  host: z.string().min(1).default('127.0.0.1'),
  /** TLS (SMPP over TLS): PEM files. Unset = plain TCP. */
  tls: z.object({ keyFile: z.string().min(1), certFile: z.string().min(1) }).strict().optional(),
  binds: z.array(smppBindSchema).min(1),
  upstreams: z.array(smppUpstreamSchema).min(1),
  /** Status of a submit to a blocked recipient (permanent for SMPP clients). Default ESME_RX_R_APPN (0x66). */
  blockedStatus: status.default('ESME_RX_R_APPN'),
  /** Status of a recipient that cannot be normalized. Default ESME_RINVDSTADR (0x0B). */
  invalidRecipientStatus: status.default('ESME_RINVDSTADR'),
  /** Status when nothing can be decided or sent now (STORE_UNAVAILABLE, MIRROR_STALE, upstream down or timed out, part timeout): clients retry. Default ESME_RX_T_APPN (0x64). */
  temporaryStatus: status.default('ESME_RX_T_APPN'),
  /**
   * Message-type TLV: `tag` (vendor TLV, 0x1400–0x3FFF) and what its value means: keys are the
   * value as text (trailing NULs dropped) or as lower-case hex; an unknown value counts as TICARI.
   */
  messageTypeTlv: z.object({
    tag: z.number().int().min(0x1400).max(0x3fff),
    values: z.record(z.string().min(1), z.enum(['TICARI', 'BILGILENDIRME'])),
  }).strict().optional(),
  /** Time the parts of one concatenated message may take to arrive (ms); then the held parts get the temporary status. Default 10,000. */
  concatTimeoutMs: z.number().int().positive().default(10_000),
  /** Concatenated messages held at once (all binds); past it new ones get the temporary status. Default 10,000. */
  concatMaxMessages: z.number().int().positive().default(10_000),
  /** A connection must bind within this many ms, else it is closed. Default 10,000. */
  bindTimeoutMs: z.number().int().positive().default(10_000),
  /** enquire_link to an ESME after this many ms of silence; unanswered within `responseTimeoutMs` closes it. Default 30,000. */
  enquireLinkMs: z.number().int().positive().default(30_000),
  /** An ESME's answer to a relayed deliver_sm / enquire_link (ms). Default 10,000. */
  responseTimeoutMs: z.number().int().positive().default(10_000),
  /** A deliver_sm with no receiver bound waits this long (ms) for one, then the upstream gets the temporary status. Default 30,000. */
  deliverWaitMs: z.number().int().positive().default(30_000),
  /** Largest PDU accepted (bytes); more is generic_nack ESME_RINVCMDLEN and the connection closes. Default 16,384 (node-smpp's own limit). */
  maxPduBytes: z.number().int().min(256).max(1_048_576).default(16_384),
  /** Upstream message ids remembered to route delivery receipts when several binds share an upstream. Default 200,000. */
  receiptRoutesMax: z.number().int().positive().default(200_000),
}).strict().superRefine((c, ctx) => {
  const names = new Set(c.upstreams.map((u) => u.name));
  if (names.size !== c.upstreams.length) ctx.addIssue({ code: 'custom', path: ['upstreams'], message: 'upstream names must be unique' });
  const ids = new Set(c.binds.map((b) => b.systemId));
  if (ids.size !== c.binds.length) ctx.addIssue({ code: 'custom', path: ['binds'], message: 'systemIds must be unique' });
  c.binds.forEach((b, i) => {
    if (!names.has(b.upstream)) ctx.addIssue({ code: 'custom', path: ['binds', i, 'upstream'], message: `no smpp.upstreams entry named ${b.upstream}` });
  });
});

export type SmppConfig = z.infer<typeof smppSchema>;
export type SmppBindConfig = SmppConfig['binds'][number];
export type SmppUpstreamConfig = SmppConfig['upstreams'][number];

/**
 * Reads a PEM file named by the SMPP config (`smpp.tls.keyFile`/`certFile`, `smpp.upstreams[].caFile`)
 * once at start.
 * @param file path from the config
 * @param key the config key naming it, e.g. `smpp.tls.certFile` (in the error)
 * @returns the file's bytes
 * @throws GW_ERR_CONFIG_INVALID when the file cannot be read (missing, unreadable): a coded start
 *   error naming the key, never a bare ENOENT
 */
export function readConfigFile(file: string, key: string): Buffer {
  try { return readFileSync(file); } catch (err) {
    throw gatewayError('GW_ERR_CONFIG_INVALID', [`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`], { cause: err });
  }
}
