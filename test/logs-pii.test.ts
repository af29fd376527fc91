import t from 'tap';
import { Writable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, loggerOptions } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { MemoryStore } from '../src/mirror/memory-store.ts';
import { KeyRing } from '../src/plugins/api-keys.ts';
import { maskPii } from '../src/plugins/redact.ts';
import pino from 'pino';
import smpp from 'smpp';
const smppErrors = smpp.errors as Record<string, number>;
import { boundEsme, startGate, startStubSmsc, until } from './transports/smpp-harness.ts';

const PHONE = /(?<![\d])(\+?90)?0?5\d{9}(?!\d)/;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;

t.test('logs never carry a full phone number, e-mail address or key (C34)', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-pii-'));
  const config = loadConfig({ env: { IYS_GATE_API_KEY: 'pii-test-key-0123456789' }, overrides: { dataDir, logLevel: 'trace' } });
  // a store whose failures mention the recipient, as driver errors often do
  const store = new MemoryStore({ dataDir: null });
  await store.open();
  const failing = Object.assign(Object.create(store), {
    get: async (k: { recipient: string }) => { throw new Error(`lookup failed for ${k.recipient} / ali.veli@example.com`); },
  });
  const lines: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } });
  const app = await buildApp(config, { store: failing, keys: new KeyRing(config), logger: loggerOptions(config, stream) });
  t.teardown(() => app.close());
  const auth = { authorization: 'Bearer pii-test-key-0123456789' };
  const r = await app.inject({ method: 'GET', url: '/v1/consents?brandCode=1&type=MESAJ&recipient=%2B905551234567', headers: auth });
  t.equal(r.statusCode, 503);
  t.equal(r.json().code, 'GW_ERR_STORE_UNAVAILABLE');
  app.log.info({ req: { headers: { authorization: 'Bearer T0ken' } }, msg: { to: { recipient: '+905550000001' } } }, 'sending to 0555 000 00 01 and Ayse@Example.com');
  app.log.warn({ deep: { a: { b: { c: { recipient: 'ali@example.com', phones: ['05321234567'] } } } } });
  const out = lines.join('');
  t.ok(out.includes('lookup failed for'), 'the error was logged');
  t.ok(out.includes('sending to'), 'the message was logged');
  t.notMatch(out, PHONE, 'no phone number');
  t.notMatch(out, EMAIL, 'no e-mail address');
  t.notMatch(out, /T0ken|pii-test-key/, 'no credentials');
  t.match(out, /\*\*\*67/, 'masked numbers keep the last two digits');
});

t.test('maskPii', async (t) => {
  t.equal(maskPii('call +90 532 123 45 67 now'), 'call ***67 now');
  t.equal(maskPii('mail Ali.Veli@Example.COM'), 'mail ***@Example.COM');
  t.equal(maskPii('order 12345'), 'order 12345', 'short numbers stay');
});

t.test('errors are logged with type, message, stack and cause, masked', async (t) => {
  const { maskDeep } = await import('../src/plugins/redact.ts');
  const cause = Object.assign(new Error('redis said no for +905321234567'), { code: 'ECONNRESET' });
  const err = Object.assign(new TypeError('failed for ali@example.com'), { cause, statusCode: 500 });
  const out = maskDeep({ err }) as { err: { type: string; message: string; stack: string; statusCode: number; cause: { message: string; code: string } } };
  t.equal(out.err.type, 'TypeError');
  t.equal(out.err.message, 'failed for ***@example.com');
  t.match(out.err.stack, /TypeError/);
  t.equal(out.err.statusCode, 500);
  t.same([out.err.cause.message, out.err.cause.code], ['redis said no for ***67', 'ECONNRESET']);
});

t.test('SMPP front logs never carry a full number (bind, blocked and allowed submits, submit_multi, MO handler failure)', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } });
  const config = loadConfig({ env: {}, overrides: { logLevel: 'trace' } });
  const stub = await startStubSmsc(t);
  const gate = await startGate(t, stub.url, {
    logger: pino(loggerOptions(config) as pino.LoggerOptions, stream),
    onMobileOriginated: (mo) => { throw new Error(`capture failed for ${mo.from}`); },
  });
  await gate.seed([{ recipient: '+905321110001', status: 'ONAY' }]);
  await until(gate.upstreamBound, 5_000, 'upstream bind');
  const e = await boundEsme(t, gate.port);
  e.session.on('deliver_sm', (p: { response(): unknown }) => { e.session.send(p.response() as never); });
  t.equal((await e.call('submit_sm', { dest_addr_ton: 1, destination_addr: '905321110001', short_message: 'x' })).command_status, 0);
  t.not((await e.call('submit_sm', { dest_addr_ton: 1, destination_addr: '905321110002', short_message: 'x' })).command_status, 0);
  const multi = await e.call('submit_multi', { dest_address: [{ dest_addr_ton: 1, destination_addr: '905321110001' }, { dest_addr_ton: 1, destination_addr: '905321110077' }], short_message: 'x' });
  t.equal(multi.command_status, 0);
  t.equal(await stub.deliver({ source_addr: '905321110055', source_addr_ton: 1, destination_addr: '4545', short_message: 'RET' }), smppErrors.ESME_RX_T_APPN, 'a failed capture: the SMSC retries');
  const out = lines.join('');
  t.match(out, /submit_multi/, 'the submit_multi line was logged');
  t.match(out, /MO handler failed/, 'the failure was logged');
  t.notMatch(out, PHONE, 'no phone number');
  t.notMatch(out, /905321110\d{3}/, 'no international spelling either');
});

t.test('decision log: no recipient in clear in decisions/ unless encryption is configured, and then only with the key (issue 15)', async (t) => {
  const { makeGateway } = await import('./helpers/gateway.ts');
  const { readdirSync, readFileSync: read } = await import('node:fs');
  const { inflateSync } = await import('node:zlib');
  const { readDlzHeader } = await import('../src/check/decision-log/segments.ts');
  const { queryDecisions } = await import('../src/check/decision-log/reader.ts');
  const phone = '+905321234567'; const mail = 'ayse.yilmaz@example.com.tr';
  const everything = (dir: string): Buffer => Buffer.concat(readdirSync(dir).map((f) => {
    const b = read(join(dir, f));
    if (!f.endsWith('.dlz')) return b;
    const h = readDlzHeader(join(dir, f));
    return Buffer.concat([b, ...h.chunks.map((c) => inflateSync(b.subarray(h.dataAt + c.zOff, h.dataAt + c.zOff + c.zLen)))]);
  }));
  const clear = (buf: Buffer) => [phone, phone.slice(1), '5321234567', mail, 'ayse.yilmaz'].filter((s) => buf.includes(Buffer.from(s)));
  for (const enc of [false, true]) {
    const encryptionKey = enc ? 'ab'.repeat(32) : undefined;
    const gw = await makeGateway(t, { decisions: { writer: 'inline', flushMs: 5, ...(encryptionKey ? { encryptionKey } : {}) } });
    await gw.call('POST', '/v1/check', { brandCode: 1, recipient: phone, type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI' });
    await gw.call('POST', '/v1/check', { brandCode: 1, recipient: mail, type: 'EPOSTA', recipientType: 'BIREYSEL', messageType: 'TICARI' });
    await gw.call('POST', '/v1/check/batch', { brandCode: 1, type: 'MESAJ', recipientType: 'BIREYSEL', messageType: 'TICARI', recipients: [phone, '0532 123 45 67x'] });
    await gw.app.decisions!.rotate(); // a compressed segment too
    await gw.app.decisions!.commit();
    const dir = join(gw.dataDir, 'decisions');
    t.same(clear(everything(dir)), [], `${enc ? 'encrypted' : 'HMAC only'}: no recipient in clear in ${readdirSync(dir).join(', ')}`);
    const keys = JSON.parse(read(join(gw.dataDir, 'decision-keys.json'), 'utf8')).hmacKeys.map((k: { id: number; key: string }) => ({ id: k.id, key: Buffer.from(k.key, 'hex') }));
    const withKey = queryDecisions([dir], { recipient: phone }, { hmacKeys: keys, encryptionKey: encryptionKey ? Buffer.from(encryptionKey, 'hex') : undefined }, { limit: 10 }).decisions;
    t.equal(withKey.length, 2, 'found by the recipient (HMAC)');
    if (enc) t.same(withKey.map((d) => d.recipient), [phone, phone], 'decrypted with the key');
    const wrong = queryDecisions([dir], { recipient: phone }, { hmacKeys: keys, encryptionKey: enc ? Buffer.alloc(32, 9) : undefined }, { limit: 10 }).decisions;
    t.ok(wrong.every((d) => d.recipient === undefined), 'never in clear without the right key');
  }
});

t.test('inbound door: a refusal the store cannot record is 503, its logs carry no number; confirmation keys hold no number', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iysgate-pii-inbound-'));
  const secret = 'pii-inbound-secret-0123456789';
  const config = loadConfig({ env: { IYS_GATE_API_KEY: 'pii-test-key-0123456789' }, overrides: {
    dataDir, logLevel: 'trace', brands: [42],
    upstreams: [{ name: 'vm', adapter: 'verimor', url: 'http://127.0.0.1:9/', brandCode: 42 }],
    inbound: { numbers: { '+908501234567': [42] }, upstreams: { vm: { secret } } },
  } });
  const store = new MemoryStore({ dataDir: null });
  await store.open();
  const failing = Object.assign(Object.create(store), {
    apply: async (ms: { recipient: string }[]) => { throw new Error(`write failed for ${ms[0]!.recipient}`); },
  });
  const lines: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } });
  const app = await buildApp(config, { store: failing, keys: new KeyRing(config), logger: loggerOptions(config, stream) });
  t.teardown(() => app.close());
  const r = await app.inject({ method: 'POST', url: `/v1/inbound/vm/${secret}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify([{ message_id: 1, source_addr: '905321234567', destination_addr: '908501234567', content: 'RET' }]) });
  t.equal(r.statusCode, 503, 'not recorded: the provider retries');
  // the handled mark is written beside the refusal since e2c514e (it may be on disk without it): what must
  // hold is that the provider's retry is not swallowed as a duplicate while the mirror lacks the RET
  const retry = await app.inject({ method: 'POST', url: `/v1/inbound/vm/${secret}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify([{ message_id: 1, source_addr: '905321234567', destination_addr: '908501234567', content: 'RET' }]) });
  t.equal(retry.statusCode, 503, 'the retry is recorded again (still failing here), not answered as a handled duplicate');
  const out = lines.join('');
  t.ok(out.length > 0, 'the failure was logged');
  t.notMatch(out, PHONE, 'no phone number in the logs');
  t.notMatch(r.body, PHONE, 'nor in the answer');
});
