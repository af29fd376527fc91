// Attack review of 2026-12-02 on the SMTP relay's memory of partial deliveries (issue 13,
// 451 GW_ERR_SMTP_UPSTREAM_PARTIAL): a retry with other bytes is a new message (sent to every
// recipient: a duplicate at worst, never a skipped copy) and the memory stays within its bound.
import t from 'tap';
import { DeliveredCopies } from '../../src/transports/smtp/delivered-copies.ts';

t.test('a retry with different bytes under the same header key is not matched', async (t) => {
  const c = new DeliveredCopies(60_000, 100);
  c.remember('pre', 'hash-a', ['A@x.example', 'b@x.example'], 0);
  t.ok(c.has('pre', 1), 'the header key marks a possible retry');
  t.same([...c.delivered('pre', 'hash-a', 1)].sort(), ['a@x.example', 'b@x.example'], 'byte-identical retry: its recipients, lower-cased');
  t.equal(c.delivered('pre', 'hash-b', 1).size, 0, 'other body bytes: nobody is skipped');
  c.remember('pre', 'hash-b', ['c@x.example'], 2);
  t.same([...c.delivered('pre', 'hash-b', 3)], ['c@x.example'], 'a new body replaces the old entry, its recipients not merged');
  t.equal(c.delivered('pre', 'hash-a', 3).size, 0);
  t.notOk(c.has('pre', 60_002), 'expired after ttlMs');
});

t.test('memory bounded by maxRecipients over all entries, oldest dropped first', async (t) => {
  const c = new DeliveredCopies(60_000, 1_000);
  for (let i = 0; i < 10_000; i++) c.remember(`pre-${i}`, `h-${i}`, [`r${i}-1@x.example`, `r${i}-2@x.example`], i);
  t.ok(c.size <= 500, `entries held ${c.size} (1,000 recipients / 2 each)`);
  t.ok(c.has('pre-9999', 10_000), 'the newest kept');
  t.notOk(c.has('pre-0', 10_000), 'the oldest dropped');
  const many = Array.from({ length: 1_001 }, (_x, i) => `m${i}@x.example`);
  c.remember('big', 'h', many, 10_001);
  t.notOk(c.has('big', 10_002), 'one message over the bound is not held (its retry goes to all: duplicates, never skips)');
  t.ok(c.size <= 500);
});
