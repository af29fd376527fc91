/**
 * SMPP text and address units: GSM 03.38 with the Turkish tables (3GPP TS 23.038 A.2.1, A.3.1)
 * against node-smpp's own encoder, UCS-2, data_coding groups, UDH references, TON → recipient.
 */
import t from 'tap';
import smpp from 'smpp';
import { recipientOf } from '../../src/transports/smpp/address.ts';
import { normalizePhone } from '../../src/domain/recipient.ts';
import { alphabetOf, decodeGsm, decodeText, decodeUcs2, readUdh } from '../../src/transports/smpp/text.ts';

t.test('GSM 7-bit with the Turkish locking-shift table decodes what node-smpp encodes', async (t) => {
  const text = 'Şifre: ğüşıöç İĞÜŞÖÇ ı İ 10€ [x]';
  // node-smpp's encoder, Turkish table (udh IE 0x25 value 1): the bytes an ESME built with it sends
  const p = new smpp.PDU('submit_sm', { destination_addr: '1', short_message: { udh: Buffer.from([0x03, 0x25, 0x01, 0x01]), message: text } });
  p.toBuffer();
  const sm = p.short_message as Buffer;
  const udh = readUdh(sm, 0, sm.length, true)!;
  t.equal(udh.lockingShift, 1);
  t.equal(decodeGsm(sm, udh.length, sm.length, udh.lockingShift, 1), text);
  // the same septets read with the default table are not the text (why the UDH matters)
  t.not(decodeGsm(sm, udh.length, sm.length, 0, 0), text);
});

t.test('Turkish single-shift: escaped ğ ı ş ç Ğ İ Ş over the default table', async (t) => {
  const esc = (c: number) => [0x1b, c];
  const b = Buffer.from([...esc(0x67), ...esc(0x69), ...esc(0x73), ...esc(0x63), ...esc(0x47), ...esc(0x49), ...esc(0x53), 0x41, ...esc(0x65)]);
  t.equal(decodeGsm(b, 0, b.length, 0, 1), 'ğışçĞİŞA€');
  t.equal(decodeGsm(b, 0, b.length, 0, 0), 'giscGISA€', 'default extension: unknown escapes show the base character');
});

t.test('UCS-2, Latin-1 and the data_coding groups', async (t) => {
  const u = Buffer.from('İndirim 😀', 'utf16le').swap16();
  t.equal(decodeUcs2(u, 0, u.length), 'İndirim 😀');
  t.equal(decodeText(Buffer.from('caf\xe9', 'latin1'), 0, 4, 3, readUdh(Buffer.alloc(0), 0, 0, false)!), 'café');
  t.same([0, 1, 3, 8, 2, 4, 0xf0, 0xf4, 0x08 | 0x10, 0x10, 6].map(alphabetOf), ['gsm', 'latin1', 'latin1', 'ucs2', 'unseen', 'unseen', 'gsm', 'unseen', 'ucs2', 'gsm', 'unseen']);
});

t.test('UDH: 8- and 16-bit references, bad lengths', async (t) => {
  const u8 = Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x03, 0x02, 0x41]);
  t.match(readUdh(u8, 0, u8.length, true), { length: 6, ref: 0x2a, total: 3, seq: 2 });
  const u16 = Buffer.from([0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01]);
  t.match(readUdh(u16, 0, u16.length, true), { length: 7, ref: 0x11234, total: 2, seq: 1 }, '16-bit refs never collide with 8-bit ones');
  t.equal(readUdh(Buffer.from([0x09, 0x00, 0x03]), 0, 3, true), null, 'UDHL past the message');
  t.equal(readUdh(Buffer.from([0x02, 0x00, 0x03]), 0, 3, true), null, 'IE past the UDH');
});

t.test('TON/NPI + address → the one normalizer', async (t) => {
  const canon = (ton: number, a: string) => { const n = normalizePhone(recipientOf(ton, a)); return n.ok ? n.canonical : n.error; };
  t.equal(canon(1, '905321234567'), '+905321234567', 'international');
  t.equal(canon(1, '+905321234567'), '+905321234567');
  t.equal(canon(1, '00905321234567'), '+905321234567');
  t.equal(canon(2, '05321234567'), '+905321234567', 'national with trunk 0');
  t.equal(canon(2, '5321234567'), '+905321234567');
  t.equal(canon(0, '+905321234567'), '+905321234567', 'unknown with +');
  t.equal(canon(0, '00905321234567'), '+905321234567', 'unknown with 00');
  t.equal(canon(0, '05321234567'), '+905321234567', 'unknown with 0');
  t.equal(canon(0, '905321234567'), '+905321234567', 'unknown, bare country code');
  t.equal(canon(1, '12125550100'), '+12125550100', 'foreign international');
  t.equal(canon(5, 'IYSGATE'), 'NOT_A_PHONE', 'alphanumeric is never a number');
  t.equal(canon(0, '4545'), 'TOO_SHORT', 'a short code is not a recipient');
});
