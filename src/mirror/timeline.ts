import type { Movement } from '../domain/types.ts';

/**
 * The movement history of the mirror (issue 15, `GET /v1/consents?at=`): every movement a store
 * applied (sync pull, uploads, refusals, imports, pushes), kept with the time it was applied, so
 * the record the mirror held at any past time can be told. A store keeps it beside its current
 * records (a separate keyspace written in the same transaction or script as the record: memory
 * store journal record, LMDB `timeline` sub-database, Redis `t{b}` bucket hash), never on the
 * lookup path of checks.
 */

/** One movement as the mirror applied it. */
export interface AppliedMovement {
  movement: Movement;
  /** When the store applied it (epoch ms). */
  appliedAt: number;
  /** `applied`: it became the key's current record; `ignoredOlder`: the key held a newer one (consent-order.ts). */
  outcome: 'applied' | 'ignoredOlder';
}

/** Options of one `ConsentStore.apply` call. */
export interface ApplyOptions {
  /**
   * The applied time recorded for these movements (epoch ms). Default: the store's clock at the
   * write (Date.now()). Tests and replays pass it; production callers leave it unset.
   */
  appliedAtMs?: number;
}

/** Default retention of the movement history: decisions.retentionDays' default, 1,095 days (3 years). */
export const DEFAULT_TIMELINE_RETENTION_MS = 1095 * 86_400_000;

/**
 * The entry whose movement was the key's current record at `atMs`: the last `applied` entry, in
 * apply order, applied at or before `atMs`; null when the mirror held no record of the key then
 * (or the history does not reach back that far: see `retainedFrom`).
 * @param entries the key's timeline in apply order (oldest first), as `ConsentStore.timeline` returns it
 */
export function recordAt(entries: readonly AppliedMovement[], atMs: number): AppliedMovement | null {
  let found: AppliedMovement | null = null;
  for (const e of entries) if (e.outcome === 'applied' && e.appliedAt <= atMs) found = e;
  return found;
}

/**
 * Retention of one key's timeline: entries applied at or before `cutoffMs` are dropped, except the
 * last `applied` one among them (it was still the current record at the cutoff, so `recordAt`
 * answers exactly for every time after the cutoff). Order is kept. Returns `entries` itself when
 * nothing is dropped.
 * @param cutoffMs now − retention (epoch ms)
 */
export function pruneTimeline<T extends { appliedAt: number; outcome: 'applied' | 'ignoredOlder' }>(entries: T[], cutoffMs: number): T[] {
  let oldIdx = -1; // the last applied entry at or before the cutoff
  let old = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.appliedAt > cutoffMs) continue;
    old++;
    if (e.outcome === 'applied') oldIdx = i;
  }
  if (old === 0 || (old === 1 && oldIdx >= 0)) return entries;
  return entries.filter((e, i) => e.appliedAt > cutoffMs || i === oldIdx);
}

/**
 * Parses an `at` / `--from` style time: epoch ms (digits) or an ISO 8601 date or date-time
 * (`2026-03-02`, `2026-03-02T09:15:00+03:00`, `…Z`; a time without offset is read as UTC by
 * Date.parse, so an offset should be given). Returns epoch ms, or null when `v` is neither.
 */
export function parseTimeParam(v: string): number | null {
  if (/^\d{1,15}$/.test(v)) return Number(v);
  const m = /^(\d{4})-(\d{2})-(\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(v);
  if (!m) return null;
  // a day the month does not have (2026-02-30, 04-31) is refused: Date.parse rolls it into the next month (review attack)
  const month = Number(m[2]);
  if (month < 1 || month > 12 || Number(m[3]) < 1 || Number(m[3]) > new Date(Date.UTC(Number(m[1]), month, 0)).getUTCDate()) return null;
  // a date-time without offset is UTC as documented (Date.parse would read it in the process's time zone)
  const ms = Date.parse(v.replace(' ', 'T') + (m[4] && !m[7] ? 'Z' : ''));
  return Number.isFinite(ms) ? ms : null;
}

/**
 * The hint a time parameter's GW_ERR_VALIDATION message ends with when the text ends in a space
 * and an offset (`…09:15:00 03:00`): an unencoded `+` of the query string, which URL decoding
 * turns into a space (application/x-www-form-urlencoded). Empty otherwise. The text itself is
 * not echoed (it is caller input, and messages reach logs).
 */
export function plusHint(text: string): string {
  return /\s\d{2}:?\d{2}$/.test(text) ? ': a + in a query string arrives as a space, write it %2B' : '';
}
