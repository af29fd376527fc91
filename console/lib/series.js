// Shapes the per-second decision counters of GET /v1/console/decisions for the charts and tables.

/**
 * Sums the series of a snapshot by one dimension.
 * @param {{fromSecond: number, seconds: number, series: {decision: string, reason: string, entrance: string, counts: number[], total: number}[]}} snap
 * @param {'reason'|'entrance'|'decision'} by `reason` groups by decision and reason ("BLOCK CONSENT_RET")
 * @returns {{ x: number[], groups: {label: string, counts: number[], total: number}[] }} x in epoch
 *   seconds; groups sorted by total, largest first
 */
export function groupSeries(snap, by) {
  const x = Array.from({ length: snap.seconds }, (_, i) => snap.fromSecond + i);
  const m = new Map();
  for (const s of snap.series) {
    const label = by === 'reason' ? `${s.decision} ${s.reason}` : by === 'entrance' ? s.entrance : s.decision;
    let g = m.get(label);
    if (!g) { g = { label, counts: new Array(snap.seconds).fill(0), total: 0 }; m.set(label, g); }
    for (let i = 0; i < snap.seconds; i++) g.counts[i] += s.counts[i] ?? 0;
    g.total += s.total;
  }
  return { x, groups: [...m.values()].sort((a, b) => b.total - a.total || (a.label < b.label ? -1 : 1)) };
}

/**
 * Totals by decision and the top reasons.
 * @returns {{ ALLOW: number, BLOCK: number, top: {decision: string, reason: string, total: number, share: number}[] }}
 *   share of all decisions in the window, 0..1
 */
export function decisionTotals(snap, topN = 5) {
  const out = { ALLOW: 0, BLOCK: 0 };
  const m = new Map();
  for (const s of snap.series) {
    out[s.decision] = (out[s.decision] ?? 0) + s.total;
    const k = `${s.decision} ${s.reason}`;
    const e = m.get(k) ?? { decision: s.decision, reason: s.reason, total: 0 };
    e.total += s.total;
    m.set(k, e);
  }
  const all = out.ALLOW + out.BLOCK;
  const top = [...m.values()].sort((a, b) => b.total - a.total || (a.reason < b.reason ? -1 : 1)).slice(0, topN)
    .map((e) => ({ ...e, share: all === 0 ? 0 : e.total / all }));
  return { ...out, top };
}
