// Display formatting of the console, in Turkish (default) or English. Instants are shown in
// Istanbul time whatever the browser's zone (İYS and the outbox deadlines are Istanbul dates).

const LOCALES = { tr: 'tr-TR', en: 'en-GB' };
const TZ = 'Europe/Istanbul';
const cache = new Map();
const fmt = (lang, kind, opts) => {
  const k = `${lang}|${kind}`;
  let f = cache.get(k);
  if (!f) { f = new Intl.DateTimeFormat(LOCALES[lang] ?? LOCALES.tr, { timeZone: TZ, ...opts }); cache.set(k, f); }
  return f;
};

/**
 * An instant as Istanbul date and time: tr `1 Aralık 2026 14:05`, en `1 December 2026, 14:05`.
 * @param {string|number|Date|null} at ISO 8601 text, epoch ms or Date; null/invalid → '—'
 * @param {'tr'|'en'} lang
 */
export function formatDateTime(at, lang = 'tr') {
  const d = at instanceof Date ? at : at === null || at === undefined ? null : new Date(at);
  if (d === null || Number.isNaN(d.getTime())) return '—';
  return fmt(lang, 'dt', { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

/**
 * An Istanbul calendar date `YYYY-MM-DD` with its weekday: tr `4 Aralık 2026 Cuma`,
 * en `Friday, 4 December 2026`. Anything else → '—'.
 */
export function formatDate(date, lang = 'tr') {
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return '—';
  const utc = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(utc.getTime()) || utc.toISOString().slice(0, 10) !== date) return '—'; // 30 February, month 13
  // noon Istanbul: the same calendar day in every zone
  const d = new Date(`${date}T12:00:00+03:00`);
  if (Number.isNaN(d.getTime())) return '—';
  return fmt(lang, 'd', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(d);
}

/** An Istanbul time of day `HH:MM:SS` (chart axes). */
export function formatTime(at, lang = 'tr') {
  return fmt(lang, 't', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(at));
}

/** A whole or decimal number with the language's grouping: tr `12.345`, en `12,345`; null → '—'. */
export function formatNumber(n, lang = 'tr', digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return new Intl.NumberFormat(LOCALES[lang] ?? LOCALES.tr, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(n);
}

/** A share 0..1 as a percentage: tr `%12,5`, en `12.5%`. */
export function formatPercent(x, lang = 'tr') {
  return new Intl.NumberFormat(LOCALES[lang] ?? LOCALES.tr, { style: 'percent', maximumFractionDigits: 1 }).format(x);
}

const UNITS = { tr: { d: 'g', h: 'sa', m: 'dk', s: 'sn' }, en: { d: 'd', h: 'h', m: 'min', s: 's' } };

/**
 * A duration in ms as its two largest units: tr `2 sa 5 dk`, `45 sn`; en `2 h 5 min`. Negative or
 * null → '—'.
 */
export function formatDuration(ms, lang = 'tr') {
  if (ms === null || ms === undefined || !(ms >= 0)) return '—';
  const u = UNITS[lang] ?? UNITS.tr;
  let s = Math.floor(ms / 1000);
  const parts = [];
  for (const [k, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    const q = Math.floor(s / size);
    s -= q * size;
    if (q > 0 || (k === 's' && parts.length === 0)) parts.push(`${q} ${u[k]}`);
  }
  return parts.slice(0, 2).join(' ');
}

/**
 * Business days left, in words: tr `3 iş günü`, `bugün son gün`, `2 iş günü gecikti`;
 * en `3 business days`, `due today`, `2 business days overdue`. null → '—'.
 */
export function formatDaysLeft(n, lang = 'tr') {
  if (n === null || n === undefined) return '—';
  if (lang === 'en') {
    if (n === 0) return 'due today';
    const k = Math.abs(n);
    return `${k} business day${k === 1 ? '' : 's'}${n < 0 ? ' overdue' : ''}`;
  }
  if (n === 0) return 'bugün son gün';
  return n > 0 ? `${n} iş günü` : `${-n} iş günü gecikti`;
}
