// Uploads: bulk transfer jobs to İYS with progress bars, rates and their per-line reports.
import { download, h, table } from '../lib/dom.js';
import { formatDateTime, formatNumber } from '../lib/format.js';

/** Rows per second since the job was created (sent rows; validated while nothing was sent yet). */
export function jobRate(job, nowMs) {
  const secs = (nowMs - Date.parse(job.createdAt)) / 1000;
  const done = job.progress.sent || job.progress.validated;
  return secs > 0 ? done / secs : null;
}

export async function render({ lang, t, api }) {
  const { jobs } = await api('/v1/iys/uploads');
  const now = Date.now();
  const n = (x, d = 0) => formatNumber(x, lang, d);
  if (jobs.length === 0) return h('p', { class: 'muted' }, t('noJobs'));
  return table([t('job'), t('brand'), t('state'), t('created'), t('progress'), `#${t('rate')}`, t('report')], jobs.map((j) => {
    const p = j.progress;
    const total = p.total || p.validated || 0;
    const bar = h('progress', { max: String(Math.max(1, total)), value: String(p.confirmed), 'aria-label': `${t('progress')} ${j.id}` });
    const rate = jobRate(j, now);
    return {
      attrs: { dataset: { id: j.id, state: j.state } },
      cells: [h('code', {}, j.id.slice(0, 8)), String(j.brandCode), t(j.state) === j.state ? j.state : t(j.state), formatDateTime(j.createdAt, lang),
        h('div', {}, bar, h('span', { class: 'muted progress-text' }, `${n(p.confirmed)} / ${n(total)} ${t('confirmed')} · ${n(p.sent)} ${t('sent')} · ${n(p.validated)} ${t('validated')}`)),
        rate === null ? '—' : `${n(rate, 1)} ${t('perSecond')}`,
        j.report ? h('button', { type: 'button', class: 'report', onclick: async () => download(`upload-${j.id}.csv`, await api(j.report, { as: 'text' })) }, t('downloadReport')) : '—'],
    };
  }), t('uploads'));
}
