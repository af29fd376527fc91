// Decisions: ALLOW/BLOCK per second over the last hour by reason and by entrance (uPlot), top reasons.
import uPlot from '../vendor/uPlot.esm.js';
import { holds } from '../lib/api.js';
import { h, table } from '../lib/dom.js';
import { formatDateTime, formatNumber, formatPercent, formatTime } from '../lib/format.js';
import { decisionTotals, groupSeries } from '../lib/series.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function chart(title, grouped, lang, id) {
  const box = h('div', { class: 'chart', id, role: 'img', 'aria-label': `${title}: ${grouped.groups.map((g) => `${g.label} ${g.total}`).join(', ')}` });
  const opts = {
    width: 600, height: 240,
    scales: { x: { time: true } },
    axes: [{ values: (_u, ticks) => ticks.map((v) => formatTime(v * 1000, lang).slice(0, 5)) }, {}],
    series: [{ label: 'time', value: (_u, v) => (v === null ? '—' : formatTime(v * 1000, lang)) },
      ...grouped.groups.map((g, i) => ({ label: g.label, stroke: COLORS[i % COLORS.length], width: 1.5, points: { show: false } }))],
    legend: { live: false },
  };
  // uPlot measures its box: build it once the box is in the document
  requestAnimationFrame(() => {
    if (!box.isConnected) return;
    opts.width = Math.max(280, box.clientWidth);
    new uPlot(opts, [grouped.x, ...grouped.groups.map((g) => g.counts)], box);
  });
  return h('div', { class: 'card wide' }, h('h2', {}, title), box);
}

/** The decision-log search (GET /v1/decisions, scope audit): records of one recipient, newest first. */
function logSearch(lang, t, api) {
  const input = h('input', { type: 'text', id: 'log-recipient', autocomplete: 'off', required: true });
  const out = h('div', { id: 'log-result', 'aria-live': 'polite' });
  const form = h('form', {
    class: 'row', role: 'search',
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const text = await api(`/v1/decisions?${new URLSearchParams({ recipient: input.value, limit: '200' })}`, { as: 'text' });
        const rows = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
        out.replaceChildren(rows.length === 0 ? h('p', { class: 'muted' }, t('logEmpty')) : table([t('time'), t('entrance'), t('brand'), t('type'), t('decision'), t('reason'), t('status')],
          rows.map((d) => ({ attrs: { dataset: { id: d.id } }, cells: [formatDateTime(d.time, lang), d.entrance, String(d.brandCode), `${d.type} ${d.messageType}`, h('span', { class: `badge ${d.decision}` }, t(d.decision)), d.reason, d.consent?.status ?? '—'] })), t('logSearch')));
      } catch (x) {
        out.replaceChildren(h('p', { class: 'alert', role: 'alert' }, x.code ? `${x.code}: ${x.message}` : x.message));
      }
      out.dataset.ready = 'true';
    },
  }, h('label', { for: 'log-recipient' }, t('recipient'), input), h('button', { type: 'submit', class: 'primary', id: 'log-go' }, t('search')));
  return h('div', { class: 'card wide', id: 'log-search' }, h('h2', {}, t('logSearch')), form, out);
}

export async function render({ session, lang, t, api }) {
  const snap = await api('/v1/console/decisions?seconds=3600');
  const totals = decisionTotals(snap, 8);
  const n = (x) => formatNumber(x, lang);
  return h('div', {},
    h('div', { class: 'grid' },
      h('div', { class: 'card' }, h('h2', {}, t('allowLastHour')), h('p', { class: 'big ok', id: 'allow-total' }, n(totals.ALLOW))),
      h('div', { class: 'card' }, h('h2', {}, t('blockLastHour')), h('p', { class: 'big bad', id: 'block-total' }, n(totals.BLOCK)))),
    snap.series.length === 0 ? h('p', { class: 'muted' }, t('noDecisions')) : [
      chart(t('perSecondReason'), groupSeries(snap, 'reason'), lang, 'chart-reason'),
      chart(t('perSecondEntrance'), groupSeries(snap, 'entrance'), lang, 'chart-entrance'),
      h('div', { class: 'card wide', id: 'by-entrance' }, h('h2', {}, t('perSecondEntrance')),
        table([t('entrance'), `#${t('count')}`], groupSeries(snap, 'entrance').groups.map((g) => ({ attrs: { dataset: { entrance: g.label } }, cells: [g.label, n(g.total)] })), t('entrance'))),
    ],
    session.features?.decisionLog && holds(session, 'audit') ? logSearch(lang, t, api) : null,
    h('div', { class: 'card wide' }, h('h2', {}, t('topReasons')),
      h('div', { id: 'top-reasons' }, table([t('decision'), t('reason'), `#${t('count')}`, `#${t('share')}`],
        totals.top.map((r) => ({ attrs: { dataset: { reason: r.reason, decision: r.decision } }, cells: [h('span', { class: `badge ${r.decision}` }, t(r.decision)), r.reason, n(r.total), formatPercent(r.share, lang)] })),
        t('topReasons')))));
}
