// A tiny DOM builder: text goes in as text nodes (never parsed as HTML), so nothing the API
// answers can inject markup or script.

/**
 * h('td', { class: 'num', dataset: { k: 'x' } }, 'text', node, [more]) → an element.
 * `on*` attributes given as functions become listeners; `null`/`false` children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A table: `head` strings (a leading `#` right-aligns a numeric column), `rows` arrays of cells (nodes or text) or `{ attrs, cells }`. */
export function table(head, rows, caption) {
  const num = head.map((x) => x.startsWith('#'));
  return h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': caption ?? head.join(', ') },
    h('table', {},
      caption ? h('caption', { class: 'sr-only' }, caption) : null,
      h('thead', {}, h('tr', {}, head.map((x, i) => h('th', { scope: 'col', class: num[i] ? 'num' : null }, x.replace(/^#/, ''))))),
      h('tbody', {}, rows.map((r) => {
        const { attrs, cells } = Array.isArray(r) ? { attrs: {}, cells: r } : r;
        return h('tr', attrs, cells.map((c, i) => (c instanceof Node && c.nodeName === 'TD' ? c : h('td', { class: num[i] ? 'num' : null }, c))));
      }))));
}

/** Offers `text` as a file download named `name` (a Blob URL; nothing leaves the browser). */
export function download(name, text, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
