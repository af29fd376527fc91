import { z } from 'zod';

/**
 * Config key `agi`: the FastAGI pre-dial hook for Asterisk (README "Calls"). Off unless set.
 * Units are in the names; every default is stated here and in the README table.
 */
export const agiSchema = z.object({
  /** TCP port (FastAGI's usual 4573); 0 picks a free one. Default 4573. */
  port: z.number().int().min(0).max(65535).default(4573),
  /**
   * Listen address. Default 127.0.0.1. FastAGI has no authentication: listen only where the
   * PBX reaches it (a private network or loopback).
   */
  host: z.string().min(1).default('127.0.0.1'),
  /** Brand decided when the request names none (`?brand=`). */
  brandCode: z.number().int().positive(),
  /** Brands a request may name with `?brand=`; default only `brandCode`. Any other → BLOCK GW_ERR_UNKNOWN_BRAND. */
  brandCodes: z.array(z.number().int().positive()).optional(),
  /** Consent type checked when the request names none (`?type=`). Default ARAMA. */
  type: z.enum(['ARAMA', 'MESAJ']).default('ARAMA'),
  /** Message type when the request names none (`?messageType=`). Calls are commercial unless declared. Default TICARI. */
  messageType: z.enum(['TICARI', 'BILGILENDIRME']).default('TICARI'),
  /** Recipient type when the request names none (`?recipientType=`). Default BIREYSEL. */
  recipientType: z.enum(['BIREYSEL', 'TACIR']).default('BIREYSEL'),
  /**
   * Where the dialed number is read, first found wins: `query` (`?number=`), `arg` (`agi_arg_1`),
   * `extension` (`agi_extension`), `dnid` (`agi_dnid`). Default that order.
   */
  numberFrom: z.array(z.enum(['query', 'arg', 'extension', 'dnid'])).min(1).default(['query', 'arg', 'extension', 'dnid']),
  /**
   * Max ms from the end of the AGI environment to the decision; past it the channel gets
   * `BLOCK STORE_UNAVAILABLE` (fail closed) so the dialplan never waits on a slow store. Default 500.
   */
  decisionTimeoutMs: z.number().int().positive().default(500),
  /** Max ms for Asterisk to send its environment block, and for each command reply. Default 2,000. */
  ioTimeoutMs: z.number().int().positive().default(2_000),
  /** Concurrent AGI sessions; past it a new connection gets BLOCK GW_ERR_AGI_BUSY at once. Default 2,000. */
  maxConnections: z.number().int().positive().default(2_000),
}).strict();

export type AgiConfig = z.infer<typeof agiSchema>;
