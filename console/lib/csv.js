// CSV text for the console's downloads (RFC 4180: CRLF, fields quoted when they hold a comma,
// quote or line break). A text field that a spreadsheet would run as a formula (leading = or @,
// or + / - not followed by a number) gets a leading apostrophe; phone numbers like +905… stay as they are.

const NUMBERISH = /^[+-]?\d[\d\s.,]*$/;

/** One field as CSV. `null`/`undefined` → empty. */
export function csvField(v) {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && (/^[=@\t\r]/.test(s) || (/^[+-]/.test(s) && !NUMBERISH.test(s)))) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * @param {string[]} header column names
 * @param {unknown[][]} rows one array of fields per row, in header order
 * @returns {string} the file, CRLF line ends, ending in CRLF
 */
export function toCsv(header, rows) {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
