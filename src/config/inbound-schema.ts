import { z } from 'zod';

const brandCode = z.number().int().positive();

/**
 * One entry of config `brands`: a brandCode, or an object naming the brand's short names (what a
 * reply may name after RET: `RET MARKA`, issue 14) and the sender identity its commercial
 * messages must carry (the content check of screening.ts: `identity.title` — trade name, or the
 * tradesman's name — and optionally `mersis`, the 16-digit MERSİS number).
 */
export const brandEntrySchema = z.union([brandCode, z.object({
  brandCode,
  /** Short names a reply may name (`RET ABC`), matched folded (case, diacritics). Default none. */
  shortNames: z.array(z.string().min(1).max(40)).default([]),
  /** Sender identity the content check looks for in TICARI texts. Unset: identity not checked for this brand. */
  identity: z.object({ title: z.string().min(2), mersis: z.string().regex(/^\d{16}$/).optional() }).strict().optional(),
}).strict()]);

export type BrandEntry = z.infer<typeof brandEntrySchema>;

/** brandCodes of config `brands` entries (numbers or objects). */
export function brandCodesOf(brands: readonly BrandEntry[] | undefined): number[] {
  return (brands ?? []).map((b) => (typeof b === 'number' ? b : b.brandCode));
}

/** Per-upstream inbound settings (`inbound.upstreams.<upstream name>`). */
const inboundUpstream = z.object({
  /**
   * Secret of the push receiver `POST /v1/inbound/<upstream>`: given as the last path segment
   * (`/v1/inbound/<upstream>/<secret>`, for providers whose panel takes only a URL) or as the
   * HTTP Basic password. ≥ 16 characters. Unset: no push receiver for this upstream.
   */
  secret: z.string().min(16).optional(),
  /**
   * The provider's own API credentials, for the inbox poller and the confirmation SMS: Netgsm
   * usercode/password, Verimor username/API password, iletiMerkezi key/hash.
   */
  credentials: z.object({ username: z.string().min(1), password: z.string().min(1) }).strict().optional(),
  /** Inbox poll period in ms (Netgsm, iletiMerkezi and Verimor inbox APIs); 0 = no poller. Default 0. */
  pollIntervalMs: z.number().int().min(0).default(0),
  /** Base URL of the provider's API for the poller and confirmations; default the upstream's `url`. */
  apiUrl: z.string().url().optional(),
}).strict();

/** Config `inbound`: replies (mobile-originated SMS) read for refusals (issue 14, README "Refusals from replies"). */
export const inboundSchema = z.object({
  /**
   * Destination number or SMS header → brands it serves: `{"+908501234567": [123456], "MARKA":
   * [123456, 654321]}`. Numbers are matched after normalization (0850…, 90850…, +90850…), headers
   * case-insensitively. A reply to a destination not listed is kept for review.
   */
  numbers: z.record(z.string().min(1), z.array(brandCode).min(1)).default({}),
  /** Refusal keywords among a reply's leading words. Default RET, IPTAL, STOP, DUR, HAYIR. */
  keywords: z.array(z.string().min(1).max(20)).min(1).default(['RET', 'IPTAL', 'STOP', 'DUR', 'HAYIR']),
  /**
   * A refusal without a brand name to a number serving several brands: `all` (default, fail toward
   * suppression: every brand of the number is refused) or `review`.
   */
  multiBrand: z.enum(['all', 'review']).default('all'),
  /** Channels a reply refuses: MESAJ always; add ARAMA to refuse calls to the number too. Default ["MESAJ"]. */
  types: z.array(z.enum(['MESAJ', 'ARAMA'])).min(1).default(['MESAJ']).refine((l) => l.includes('MESAJ'), { message: 'must include MESAJ' }),
  /** recipientType of refusals from replies. Default BIREYSEL. */
  recipientType: z.enum(['BIREYSEL', 'TACIR']).default('BIREYSEL'),
  /** Per-upstream receiver/poller settings, by upstream name (an entry of `upstreams`). */
  upstreams: z.record(z.string().min(1), inboundUpstream).default({}),
  /**
   * Informational confirmation SMS after a refusal, sent through `upstream` (its adapter's send
   * API, `inbound.upstreams.<upstream>.credentials`), at most once per number and brand per
   * Istanbul day. Unset: none sent.
   */
  confirmation: z.object({
    upstream: z.string().min(1),
    /** SMS header (sender id) to send from. */
    header: z.string().min(1).max(11),
    /** Text; `{brand}` is replaced by the brand's first short name (or its code). */
    text: z.string().min(1).max(320).default('{brand} ticari ileti iptal talebiniz alinmistir. Bu bilgilendirme mesajidir.'),
  }).strict().optional(),
  /** Provider message ids remembered for de-duplication (oldest forgotten first). Default 1,000,000. */
  dedupeMaxIds: z.number().int().min(1000).default(1_000_000),
  /** Review items kept after they were resolved, in ms. Default 30 days. */
  keepResolvedMs: z.number().int().min(0).default(30 * 86_400_000),
}).strict().default({});

export type InboundConfig = z.infer<typeof inboundSchema>;

/** Outgoing commercial content check (issue 14; screening.ts). */
export const contentCheckSchema = z.enum(['warn', 'block', 'off']).default('warn');
