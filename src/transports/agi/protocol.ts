/**
 * The FastAGI text protocol as Asterisk speaks it (res_agi.c; docs.asterisk.org "AGI Commands"):
 * after connecting, Asterisk sends its environment — lines `agi_<name>: <value>` ended by an empty
 * line — then waits for commands, one per line, answering each with `200 result=<n> [(data)]`
 * (`510` unknown command, `511` dead channel, `520-…`/`520 End of proper usage.` for bad syntax).
 * A line `HANGUP` may arrive at any time when the channel hangs up. Pure functions, no I/O.
 */

/** Limits of an environment block (bytes/lines); past them the request is malformed. */
export const ENV_MAX_LINES = 128;
export const ENV_MAX_LINE_BYTES = 2_048;

/** The environment of one AGI request. */
export interface AgiEnv { vars: Map<string, string>; args: string[] }

/** Thrown for an environment that is not Asterisk's. */
export class AgiProtocolError extends Error { override name = 'AgiProtocolError'; }

/**
 * Parses the environment lines (without the final empty line).
 * @throws AgiProtocolError for a line that is not `agi_<name>: <value>`, a name given twice, or past the limits
 */
export function parseEnv(lines: readonly string[]): AgiEnv {
  if (lines.length > ENV_MAX_LINES) throw new AgiProtocolError(`more than ${ENV_MAX_LINES} environment lines`);
  const vars = new Map<string, string>();
  const args: string[] = [];
  for (const line of lines) {
    const m = /^(agi_[a-z0-9_]+): ?(.*)$/.exec(line);
    if (!m) throw new AgiProtocolError('an environment line is not "agi_<name>: <value>"');
    if (vars.has(m[1]!)) throw new AgiProtocolError(`${m[1]} is given twice`);
    vars.set(m[1]!, m[2]!);
    const a = /^agi_arg_([0-9]+)$/.exec(m[1]!);
    if (a) args[Number(a[1]) - 1] = m[2]!;
  }
  if (!vars.has('agi_request') && !vars.has('agi_network_script')) throw new AgiProtocolError('no agi_request nor agi_network_script');
  return { vars, args };
}

/**
 * The script's query: from `agi_request` (`agi://host:4573/check?brand=1&type=ARAMA`) or
 * `agi_network_script` (`check?brand=1`). Returns the script name (`check`) and its parameters.
 */
export function requestOf(env: AgiEnv): { script: string; params: URLSearchParams } {
  const raw = env.vars.get('agi_network_script') ?? env.vars.get('agi_request')!.replace(/^agi:\/\/[^/]*\/?/i, '');
  const q = raw.indexOf('?');
  return { script: (q === -1 ? raw : raw.slice(0, q)).replace(/^\/+/, ''), params: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) };
}

/**
 * `SET VARIABLE <name> "<value>"`: value quoted, with `"` and `\` escaped and line breaks
 * removed (a value can never end the command early or start another).
 */
export function setVariable(name: string, value: string): string {
  return `SET VARIABLE ${name} "${value.replace(/[\r\n]/g, ' ').replace(/["\\]/g, (c) => '\\' + c)}"\n`;
}

/** Reads one command reply line: its code and result, or null when the line is not a final reply (a `520-` continuation). */
export function parseReply(line: string): { code: number; result: string | null } | null {
  const m = /^([0-9]{3})( |$)(?:result=(\S*))?/.exec(line);
  if (!m) return line.startsWith('520-') ? null : { code: 0, result: null };
  return { code: Number(m[1]), result: m[3] ?? null };
}
