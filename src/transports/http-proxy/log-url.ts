import { maskPii } from '../../plugins/redact.ts';

/**
 * A URL (absolute or relative, e.g. an upstream's `Location`) made fit for a log line: user and
 * password replaced by `***`, every query value replaced by `***` (providers take credentials and
 * recipients in the query: Netgsm `usercode`/`password`/`gsmno`), phone numbers and e-mail
 * addresses left in the path masked (plugins/redact.ts). Never throws: text that is not a URL is
 * cut at its first `?` and masked the same way. At most 512 characters.
 */
export function maskUrlForLog(raw: string): string {
  const text = raw.slice(0, 2048);
  let out: string;
  try {
    const abs = /^[a-z][a-z0-9+.-]*:/i.test(text);
    const u = new URL(text, 'http://relative.invalid');
    if (u.username) u.username = '***';
    if (u.password) u.password = '***';
    const names = [...u.searchParams.keys()];
    u.search = '';
    const query = names.length ? '?' + names.map((n) => `${encodeURIComponent(n)}=***`).join('&') : '';
    out = (abs ? `${u.protocol}//${u.username ? `${u.username}${u.password ? ':***' : ''}@` : ''}${u.host}` : '') + u.pathname + query;
  } catch {
    const q = text.indexOf('?');
    out = q === -1 ? text : text.slice(0, q) + '?***';
  }
  return maskPii(out).slice(0, 512);
}
