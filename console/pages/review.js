// Opt-out review: replies the inbound door could not read as a refusal for sure (free text,
// unknown destination, invalid sender), oldest first; refuse (records the refusal for the reply's
// brands) or dismiss — buttons only for a key that also holds scope `rejections`.
import { holds, post } from '../lib/api.js';
import { h, table } from '../lib/dom.js';
import { formatDate, formatDateTime } from '../lib/format.js';

export async function render({ session, lang, t, api }) {
  const q = await api('/v1/optouts/review?state=open&limit=1000');
  const canAct = holds(session, 'rejections');
  const status = h('p', { id: 'review-status', role: 'status', class: 'muted' });
  const act = async (item, action, row) => {
    row.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    try {
      const r = await post(`/v1/optouts/review/${encodeURIComponent(item.id)}`, { action });
      row.dataset.state = r.state;
      row.querySelector('td.actions').replaceChildren(t(r.state));
      status.textContent = `${item.from}: ${t(r.state)}`;
    } catch (x) {
      status.textContent = x.code ? `${x.code}: ${x.message}` : x.message;
      status.className = 'alert';
      row.querySelectorAll('button').forEach((b) => { b.disabled = false; });
    }
  };
  const head = [t('received'), t('from'), t('to'), t('text'), t('reason'), t('brand'), t('due'), canAct ? t('action') : null].filter(Boolean);
  return h('div', {},
    h('p', { id: 'review-counts' }, h('span', { class: 'badge', dataset: { k: 'open' } }, `${q.open} ${t('open')}`), ' ',
      h('span', { class: `badge${q.overdue > 0 ? ' BLOCK' : ''}`, dataset: { k: 'overdue' } }, `${q.overdue} ${t('overdue')}`),
      canAct ? null : h('span', { class: 'muted', id: 'review-readonly' }, ` · ${t('readOnlyReview')}`)),
    status,
    q.items.length === 0 ? h('p', { class: 'muted' }, t('emptyReview')) :
      table(head, q.items.map((it) => {
        const row = { attrs: { class: it.overdue ? 'overdue' : null, dataset: { id: it.id, state: it.state, overdue: String(it.overdue) } }, cells: [] };
        row.cells = [formatDateTime(it.receivedAt, lang), h('span', { class: 'mono' }, it.from), h('span', { class: 'mono' }, it.to), it.text, it.reason,
          it.brandCodes.length ? it.brandCodes.join(', ') : '—',
          it.overdue ? h('span', { class: 'overdue-mark' }, `⚠ ${formatDate(it.dueDate, lang)}`) : formatDate(it.dueDate, lang)];
        if (canAct) {
          const td = h('td', { class: 'actions' });
          const refuse = h('button', { type: 'button', class: 'primary refuse', 'aria-label': `${t('refuse')} ${it.from}` }, t('refuse'));
          const dismiss = h('button', { type: 'button', class: 'dismiss', 'aria-label': `${t('dismiss')} ${it.from}` }, t('dismiss'));
          td.append(refuse, ' ', dismiss);
          row.cells.push(td);
          // the row element exists once the table is built: find it from the button
          refuse.addEventListener('click', () => act(it, 'refuse', refuse.closest('tr')));
          dismiss.addEventListener('click', () => act(it, 'dismiss', dismiss.closest('tr')));
        }
        return row;
      }), t('review')));
}
