// Overview: store, readiness, mirror size by type, freshness gauge, İYS sync per brand, cache, outbox counts.
import { h, table } from '../lib/dom.js';
import { formatDateTime, formatDuration, formatNumber, formatPercent, formatDate } from '../lib/format.js';

export async function render({ lang, t, api }) {
  const [o, s] = await Promise.all([api('/v1/console/overview'), api('/v1/sync/status')]);
  const n = (x) => formatNumber(x, lang);
  const yesNo = (b) => h('span', { class: b ? 'ok' : 'bad' }, b ? t('yes') : t('no'));
  const m = o.mirror;
  // the gauge: age of the mirror against its freshness bound (red when stale, amber past 80 %)
  const ratio = m.maxAgeMs > 0 && m.ageMs !== null ? Math.min(1, m.ageMs / m.maxAgeMs) : m.stale ? 1 : 0;
  const fill = h('div', { class: 'gauge-fill' });
  fill.style.width = `${Math.round(ratio * 100)}%`;
  const gauge = h('div', {
    class: `gauge${m.stale ? ' stale' : ratio > 0.8 ? ' warn' : ''}`, id: 'freshness-gauge', role: 'meter',
    'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(ratio * 100)), 'aria-label': `${t('age')} / ${t('bound')}`,
  }, fill);
  const byType = m.byType
    ? table([t('type'), '#ONAY', '#RET'], Object.entries(m.byType).map(([type, c]) => ({ attrs: { dataset: { type } }, cells: [type, n(c.ONAY), n(c.RET)] })), t('byType'))
    : h('p', { class: 'muted' }, t('notCounted'));
  const c = o.cache;
  const hits = c ? c.hits + c.misses : 0;
  const sum = s.outbox;
  return h('div', {},
    h('div', { class: 'grid' },
      h('div', { class: 'card' }, h('h2', {}, t('store')),
        h('dl', { class: 'kv' }, h('dt', {}, t('kind')), h('dd', { id: 'store-kind' }, o.store.kind), h('dt', {}, t('reachable')), h('dd', { id: 'store-reachable' }, yesNo(o.store.reachable)))),
      h('div', { class: 'card' }, h('h2', {}, t('readiness')),
        h('p', { class: `big ${o.ready ? 'ok' : 'bad'}`, id: 'readiness' }, o.ready ? t('ready') : t('notReady'))),
      h('div', { class: 'card' }, h('h2', {}, t('mirror')),
        h('p', { class: 'big', id: 'mirror-size' }, n(m.size)), h('p', { class: 'muted' }, t('consents')),
        gauge,
        h('dl', { class: 'kv' },
          h('dt', {}, t('asOf')), h('dd', { id: 'mirror-asof' }, formatDateTime(m.asOf, lang)),
          h('dt', {}, t('age')), h('dd', { id: 'mirror-age', class: m.stale ? 'bad' : 'ok' }, `${formatDuration(m.ageMs, lang)} · ${m.stale ? t('stale') : t('fresh')}`),
          h('dt', {}, t('bound')), h('dd', { id: 'mirror-bound' }, m.maxAgeMs > 0 ? formatDuration(m.maxAgeMs, lang) : t('noBound')))),
      h('div', { class: 'card' }, h('h2', {}, t('outboxSummary')),
        h('dl', { class: 'kv', id: 'outbox-summary' },
          ...['pending', 'submitted', 'done', 'failed', 'overdue'].flatMap((k) => [h('dt', {}, t(k)), h('dd', { dataset: { k }, class: k === 'overdue' && sum[k] > 0 ? 'bad' : null }, n(sum[k]))]),
          h('dt', {}, t('nearest')), h('dd', {}, formatDate(sum.nearestDeadline, lang)))),
      h('div', { class: 'card' }, h('h2', {}, t('cache')),
        c ? h('dl', { class: 'kv', id: 'cache' },
          h('dt', {}, t('serving')), h('dd', {}, yesNo(c.serving)), h('dt', {}, t('entries')), h('dd', {}, n(c.entries)),
          h('dt', {}, t('hitRatio')), h('dd', {}, hits ? formatPercent(c.hits / hits, lang) : '—'))
          : h('p', { class: 'muted', id: 'cache' }, t('noCache'))),
      h('div', { class: 'card wide' }, h('h2', {}, t('byType')), byType)),
    h('div', { class: 'card wide' }, h('h2', {}, t('sync')),
      s.iysConfigured
        ? table([t('brand'), t('cursorHS'), t('cursorIYS'), t('lastPull'), t('lastPush'), `#${t('pulled')}`, `#${t('deadLetters')}`, t('lastError')],
          s.brands.map((b) => ({
            attrs: { dataset: { brand: String(b.brandCode) } },
            cells: [String(b.brandCode), h('code', {}, b.cursors.HS ?? '—'), h('code', {}, b.cursors.IYS ?? '—'),
              b.lastPullAt === null ? t('never') : formatDuration(Date.now() - b.lastPullAt, lang),
              b.lastPushAt === null ? t('never') : formatDuration(Date.now() - b.lastPushAt, lang),
              n(b.pulledMovements), n(b.deadLetters), b.lastError ? `${b.lastError.code}: ${b.lastError.message}` : '—'],
          })), t('sync'))
        : h('p', { class: 'muted', id: 'sync-off' }, t('iysOff'))));
}
