/**
 * The doors of the gate: where a message entered. Bounded set (used as a metric label and in the
 * decision log, where its index is stored: append only, never reorder). `check`/`batch`/`scrub`
 * only ask; the others forward what is allowed.
 */
export const ENTRANCES = ['check', 'batch', 'scrub', 'send', 'proxy', 'smtp', 'smpp', 'inbound', 'dialer', 'agi'] as const;
export type Entrance = (typeof ENTRANCES)[number];
/**
 * Entrances that forward what they allow (their records are on disk before the message goes
 * upstream). Not `agi`: the FastAGI hook answers a dialplan's question like /v1/check does (the
 * PBX places the call), so its records are on disk within `flushMs` like every check's.
 */
export const FORWARDING_ENTRANCES: ReadonlySet<Entrance> = new Set(['send', 'proxy', 'smtp', 'smpp', 'dialer', 'inbound']);
