/** Types of series.js. */
export interface Snapshot { fromSecond: number; seconds: number; series: readonly { decision: string; reason: string; entrance: string; counts: readonly number[]; total: number }[] }
export function groupSeries(snap: Snapshot, by: 'reason' | 'entrance' | 'decision'): { x: number[]; groups: { label: string; counts: number[]; total: number }[] };
export function decisionTotals(snap: Snapshot, topN?: number): { ALLOW: number; BLOCK: number; top: { decision: string; reason: string; total: number; share: number }[] };
