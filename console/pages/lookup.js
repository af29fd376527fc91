// Lookup: one recipient in any spelling → normalized form, every record of the brand with its
// movements, and what /v1/check answers now for TICARI and BILGILENDIRME.
import { h, table } from '../lib/dom.js';

export async function render({ session, lang, t, api }) {
  const brands = Array.isArray(session.brands) ? session.brands : [];
  const input = h('input', { type: 'text', id: 'lookup-recipient', name: 'recipient', autocomplete: 'off', required: true, 'aria-describedby': 'lookup-help' });
  const type = h('select', { id: 'lookup-type' }, h('option', { value: '' }, t('auto')), ['MESAJ', 'ARAMA', 'EPOSTA'].map((x) => h('option', { value: x }, x)));
  const rtype = h('select', { id: 'lookup-rtype' }, ['BIREYSEL', 'TACIR'].map((x) => h('option', { value: x }, x)));
  // a key of every brand on a gateway that names no brands: the brand is typed in
  const brand = Array.isArray(session.brands)
    ? h('select', { id: 'lookup-brand' }, brands.map((b) => h('option', { value: String(b) }, String(b))))
    : h('input', { type: 'number', id: 'lookup-brand', min: '1', inputmode: 'numeric', required: true });
  const out = h('div', { id: 'lookup-result', 'aria-live': 'polite' });
  const form = h('form', {
    class: 'row', role: 'search',
    onsubmit: async (e) => {
      e.preventDefault();
      const q = new URLSearchParams({ recipient: input.value, recipientType: rtype.value });
      if (type.value) q.set('type', type.value);
      if (brand.value) q.set('brandCode', brand.value);
      out.replaceChildren(h('p', { class: 'muted' }, t('loading')));
      try {
        out.replaceChildren(result(await api(`/v1/console/lookup?${q}`), lang, t));
      } catch (x) {
        out.replaceChildren(h('p', { class: 'alert', role: 'alert' }, x.code ? `${x.code}: ${x.message}` : x.message));
      }
      out.dataset.ready = 'true';
    },
  },
  h('label', { for: 'lookup-recipient' }, t('recipient'), input),
  h('label', { for: 'lookup-type' }, t('type'), type),
  h('label', { for: 'lookup-rtype' }, t('recipientType'), rtype),
  brands.length !== 1 ? h('label', { for: 'lookup-brand' }, t('brand'), brand) : null,
  h('button', { type: 'submit', class: 'primary', id: 'lookup-go' }, t('search')));
  return h('div', {}, h('p', { id: 'lookup-help', class: 'muted' }, t('lookupHelp')), form, out);
}

function result(r, _lang, t) {
  const answer = (mt) => {
    const a = r.check[mt];
    return h('div', { class: 'card', id: `check-${mt}`, dataset: { decision: a.decision, reason: a.reason } },
      h('h2', {}, `${t(mt)} · ${r.type} ${r.recipientType}`),
      h('p', { class: 'big' }, h('span', { class: `badge ${a.decision}` }, t(a.decision))), h('p', { class: 'mono' }, a.reason));
  };
  return h('div', {},
    h('div', { class: 'grid' },
      h('div', { class: 'card' }, h('h2', {}, t('normalized')), h('p', { class: 'big mono', id: 'lookup-normalized' }, r.normalized), h('p', { class: 'muted' }, r.input)),
      answer('TICARI'), answer('BILGILENDIRME')),
    h('h2', {}, t('records')),
    table([t('type'), t('recipientType'), t('status'), t('source'), t('consentDate'), t('creationDate'), t('movements')],
      r.records.map((x) => ({
        attrs: { dataset: { type: x.type, rtype: x.recipientType, status: x.current?.status ?? 'none' } },
        cells: [x.type, x.recipientType, x.current ? h('strong', { class: x.current.status === 'RET' ? 'bad' : 'ok' }, x.current.status) : h('span', { class: 'muted' }, t('noRecord')),
          x.current?.source ?? '—', x.current?.consentDate ?? '—', x.current?.creationDate ?? '—',
          x.movements.length === 0 ? '—' : h('details', {}, h('summary', {}, `${x.movements.length}`),
            h('ul', {}, x.movements.map((m) => h('li', { class: 'mono' }, `${m.status} · ${m.source ?? '—'} · ${m.consentDate ?? '—'} · ${m.transactionId ?? '—'}`))))],
      })), t('records')));
}
