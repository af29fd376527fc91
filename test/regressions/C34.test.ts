// C34: pino paths match one segment only, so nested recipients and header credentials leaked.
// The gateway masks every string of every log object and redacts credential keys at any depth.
import t from 'tap';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loggerOptions } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';

t.test('C34: nested recipient and authorization header never reach the log', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } });
  const config = loadConfig({ env: {} });
  const log = pino(loggerOptions(config, stream) as pino.LoggerOptions, stream);
  log.info({ req: { headers: { authorization: 'Bearer T' } }, msg: { to: { recipient: '+905550000001' } } });
  log.info({ a: { b: { c: { d: { 'x-api-key': 'k-123', to: 'ali@example.com' } } } } }, 'to +90 555 000 00 01');
  const out = lines.join('');
  t.notMatch(out, /905550000001|555 000 00 01/);
  t.notMatch(out, /ali@example\.com/);
  t.notMatch(out, /Bearer T|k-123/);
  t.match(out, /\*\*\*01/);
});
