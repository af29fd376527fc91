// The operator console: sign-in, navigation, language, and the pages (pages/*.js).
import { api, ApiError, getKey, setKey } from './lib/api.js';
import { h } from './lib/dom.js';
import { getLang, setLang, t } from './lib/i18n.js';
import * as overview from './pages/overview.js';
import * as decisions from './pages/decisions.js';
import * as outbox from './pages/outbox.js';
import * as uploads from './pages/uploads.js';
import * as lookup from './pages/lookup.js';
import * as review from './pages/review.js';

const PAGES = { overview, decisions, outbox, uploads, lookup, review };
/** The pages of this session: Opt-out review only where the gateway has the inbound door's queue. */
const pages = () => Object.keys(PAGES).filter((p) => p !== 'review' || session?.features?.optoutReview);
const LANG_KEY = 'iysgate.consoleLang';
const main = document.getElementById('main');
const nav = document.getElementById('nav');
let session = null;
let rendering = 0;

setLang(localStorage.getItem(LANG_KEY) ?? 'tr');

function chrome() {
  const lang = getLang();
  document.documentElement.lang = lang;
  document.title = t('title');
  document.getElementById('app-title').textContent = t('title');
  document.getElementById('skip').textContent = t('skip');
  const lb = document.getElementById('lang');
  lb.textContent = t('language');
  lb.lang = lang === 'tr' ? 'en' : 'tr';
  lb.setAttribute('aria-label', t('languageLabel'));
  const so = document.getElementById('signout');
  so.textContent = t('signOut');
  so.hidden = session === null;
  nav.hidden = session === null;
  nav.setAttribute('aria-label', t('title'));
  nav.replaceChildren(...pages().map((p) => h('a', { href: `#/${p}`, id: `nav-${p}`, 'aria-current': current() === p ? 'page' : null }, t(p))));
  const who = document.getElementById('who');
  who.textContent = session ? `${t('signedInAs')}: ${session.name}` : '';
}

function current() {
  const p = location.hash.replace(/^#\/?/, '').split('?')[0];
  return pages().includes(p) ? p : 'overview';
}

function signInForm(message) {
  const input = h('input', { type: 'password', id: 'key', name: 'key', autocomplete: 'off', required: true, 'aria-describedby': 'key-help signin-error' });
  const err = h('p', { class: 'alert', id: 'signin-error', role: 'alert' }, message ?? '');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      try {
        session = await api('/v1/console/session', { key: input.value.trim() });
        setKey(input.value.trim());
        await show();
      } catch (x) {
        err.textContent = x instanceof ApiError ? (x.status === 403 ? t('forbiddenKey') : x.status === 401 ? t('badKey') : x.message) : t('netError');
        input.focus();
      }
    },
  },
  h('label', { for: 'key' }, t('apiKey'), input),
  h('p', { id: 'key-help', class: 'muted' }, t('signInHelp')),
  h('button', { type: 'submit', class: 'primary', id: 'signin' }, t('signIn')),
  err);
  main.replaceChildren(h('section', { class: 'signin card', 'aria-labelledby': 'signin-title' }, h('h1', { id: 'signin-title' }, t('signIn')), form));
  chrome();
  input.focus();
}

/** Renders the page named in the hash; a 401 on the way signs out. */
async function show(focus = true) {
  if (session === null) return signInForm();
  chrome();
  const name = current();
  const ticket = ++rendering;
  const root = h('section', { 'aria-labelledby': 'page-title', 'aria-busy': 'true', id: `page-${name}` }, h('h1', { id: 'page-title', tabindex: '-1' }, t(name)), h('p', { class: 'muted' }, t('loading')));
  main.replaceChildren(root);
  try {
    const body = await PAGES[name].render({ session, lang: getLang(), t, api });
    if (ticket !== rendering) return;
    root.replaceChildren(h('h1', { id: 'page-title', tabindex: '-1' }, t(name)), body);
    root.setAttribute('aria-busy', 'false');
    root.dataset.ready = 'true';
    if (focus) root.querySelector('h1').focus();
  } catch (x) {
    if (x instanceof ApiError && x.status === 401) { session = null; setKey(null); return signInForm(t('badKey')); }
    root.replaceChildren(h('h1', { id: 'page-title' }, t(name)), h('p', { class: 'alert', role: 'alert' }, x.message));
    root.setAttribute('aria-busy', 'false');
    root.dataset.ready = 'error';
  }
}

document.getElementById('lang').addEventListener('click', () => {
  setLang(getLang() === 'tr' ? 'en' : 'tr');
  localStorage.setItem(LANG_KEY, getLang());
  if (session) show(false); else signInForm();
});
document.getElementById('signout').addEventListener('click', () => { session = null; setKey(null); signInForm(); });
window.addEventListener('hashchange', () => show());

(async () => {
  const key = getKey();
  if (key) {
    try { session = await api('/v1/console/session'); } catch { setKey(null); }
  }
  await show(false);
})();
