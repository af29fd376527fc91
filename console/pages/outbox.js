// Outbox: refusals and consents waiting for İYS, by deadline, business days left, overdue in red,
// failed items with their H-code, a CSV download.
import { makeCalendar } from '../lib/business-days.js';
import { toCsv } from '../lib/csv.js';
import { download, h, table } from '../lib/dom.js';
import { formatDate, formatDateTime, formatDaysLeft } from '../lib/format.js';

/** The outbox as rows for the table and the CSV (sorted by deadline, none last). */
export function outboxRows(items, cal, today) {
  const c = makeCalendar(cal);
  return items.slice().sort((a, b) => (a.deadline ?? '9999').localeCompare(b.deadline ?? '9999') || a.receivedAt.localeCompare(b.receivedAt)).map((i) => {
    const open = i.state === 'pending' || i.state === 'submitted';
    const left = i.deadline === null ? null : c.businessDaysLeft(today, i.deadline);
    // as the gateway's summary counts it (iys/outbox.ts outboxSummary)
    const overdue = open && ((i.deadline !== null && i.deadline < today) || (i.deadline === null && i.origin === 'rejection'));
    return { item: i, left: open ? left : null, overdue };
  });
}

export const CSV_HEADER = ['id', 'brandCode', 'origin', 'state', 'recipient', 'type', 'recipientType', 'status', 'receivedAt', 'deadline', 'businessDaysLeft', 'overdue', 'errorCode', 'errorMessage', 'transactionId'];

/** One CSV row per outbox row, in {@link CSV_HEADER} order. */
export function csvRow({ item: i, left, overdue }) {
  return [i.id, i.brandCode, i.origin, i.state, i.consent.recipient, i.consent.type, i.consent.recipientType, i.consent.status, i.receivedAt, i.deadline, left, overdue ? 'yes' : 'no', i.lastError?.code ?? '', i.lastError?.message ?? '', i.transactionId ?? ''];
}

export async function render({ lang, t, api }) {
  const [o, cal] = await Promise.all([api('/v1/outbox?limit=1000'), api('/v1/console/calendar')]);
  const rows = outboxRows(o.items, cal, cal.today);
  const btn = h('button', {
    type: 'button', id: 'outbox-csv',
    onclick: () => download(`iys-gate-outbox-${cal.today}.csv`, toCsv(CSV_HEADER, rows.map(csvRow))),
  }, t('downloadCsv'));
  const sum = o.summary;
  return h('div', {},
    h('div', { class: 'row' }, btn,
      h('span', { id: 'outbox-counts' }, ['pending', 'submitted', 'failed', 'overdue'].map((k) => h('span', { class: `badge${k === 'overdue' && sum[k] > 0 ? ' BLOCK' : ''}`, dataset: { k } }, `${sum[k]} ${t(k)}`)))),
    rows.length === 0 ? h('p', { class: 'muted' }, t('emptyOutbox')) :
      table([t('deadline'), t('daysLeft'), t('state'), t('origin'), t('brand'), t('recipient'), t('type'), t('status'), t('received'), t('error')],
        rows.map((r) => ({
          attrs: { class: r.overdue ? 'overdue' : r.item.state === 'failed' ? 'failed' : null, dataset: { id: r.item.id, overdue: String(r.overdue), state: r.item.state } },
          cells: [formatDate(r.item.deadline, lang),
            h('td', { class: 'left' }, r.overdue ? h('span', { class: 'overdue-mark' }, `⚠ ${formatDaysLeft(r.left ?? -1, lang)}`) : formatDaysLeft(r.left, lang)),
            t(r.item.state), r.item.origin, String(r.item.brandCode), h('span', { class: 'mono' }, r.item.consent.recipient),
            `${r.item.consent.type} ${r.item.consent.recipientType}`, r.item.consent.status, formatDateTime(r.item.receivedAt, lang),
            r.item.lastError ? h('span', { class: 'bad' }, h('code', {}, r.item.lastError.code), ` ${r.item.lastError.message}`) : '—'],
        })), t('outbox')));
}
