import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { RemovalReports, RemovedRecipient } from '../../check/removal-reports.ts';
import { screenContent, screenOutbound, type MessageScreening } from '../../check/screening.ts';
import type { Reason } from '../../domain/types.ts';
import { hasBrand } from '../../plugins/api-keys.ts';
import type { SmtpConfig } from './config.ts';
import { consentEntries, sendDsn } from './dsn.ts';
import type { DeliveredCopies } from './delivered-copies.ts';
import { headerBlockEnd, headerValue, parseHeaderFields, rebuildHeaderBlock, type HeaderField } from './headers.ts';
import { DataReader } from './message-reader.ts';
import { lintTexts } from './mime-text.ts';
import type { EnvelopeState, SmtpRelayDeps, SmtpSender } from './relay.ts';
import { smtpReply, TEMPORARY_REASONS, type SmtpReplyError } from './replies.ts';
import { listUnsubscribeHeaders } from './unsubscribe-headers.ts';
import { oneLine, type SmtpUpstream, type UpstreamOutcome } from './upstream.ts';

/** A recipient refused at RCPT TO (kept for the removal report). */
export interface RcptRefusal { input: string; recipient: string | null; reason: Reason }

/** What one DATA transaction answers. */
export type DataReply = { ok: true; text: string } | { ok: false; error: SmtpReplyError };

/** What relayMessage needs besides the stream. */
export interface TransactionDeps {
  deps: SmtpRelayDeps;
  cfg: SmtpConfig;
  via: string;
  upstream: SmtpUpstream;
  reports: RemovalReports;
  /** Who already has a message taken for some recipients only (the client's retry skips them). */
  copies: DeliveredCopies;
}

/** Header fields the relay consumes (never forwarded). */
const IYS_HEADERS = new Set(['x-iys-message-type', 'x-iys-recipient-type', 'x-iys-brand-code', 'x-iys-gate-report', 'x-iys-gate-decision']);

/**
 * One DATA transaction (issue 13): read the header block (≤ `maxHeaderBytes`), apply the
 * sender's X-IYS-* narrowing, decide the recipients that are not decided yet (BILGILENDIRME key,
 * or brand / recipient type changed by a header: one screenOutbound call over every envelope
 * recipient with Subject + first text part, ≤ `lintMaxBytes`), then forward: header block
 * rebuilt (X-IYS-* removed; List-Unsubscribe, List-Unsubscribe-Post and X-IYS-Gate-Report
 * added as configured), body streamed byte for byte to the upstream in one transaction, or
 * held (≤ maxMessageBytes) and sent as one copy per recipient when each carries its own
 * List-Unsubscribe token, or when it may be the retry of a partially delivered message. A TICARI message's text gets
 * the commercial content check (issue 14, policy.contentCheck): `warn` says
 * `X-IYS-Gate-Content: missing=…` in the 250 reply, `block` answers 550 5.7.1
 * GW_ERR_UPSTREAM_CONTENT_MISSING before the upstream. Answers only after the upstream
 * answered for every recipient, by the rule of `settle`. A broken session (client gone, bare LF, over the size) never reaches the
 * upstream's final `.`.
 */
export async function relayMessage(t: TransactionDeps, stream: SMTPServerDataStream, session: SMTPServerSession, user: SmtpSender, st: EnvelopeState): Promise<DataReply> {
  const { cfg, deps } = t;
  const m = deps.metrics;
  const reader = new DataReader(stream);
  const fail = (error: SmtpReplyError, outcome: string): DataReply => { reader.drain(); m.smtpMessage(t.via, outcome); return { ok: false, error }; };
  const rcpts = session.envelope.rcptTo.map((a) => a.address);
  const chunks: Buffer[] = [];
  let held = 0;
  let hEnd = -1;
  try {
    // 1. the header block
    while (hEnd < 0) {
      const c = await reader.next();
      if (c === null) break;
      chunks.push(c); held += c.length;
      const joined = chunks.length === 1 ? c : Buffer.concat(chunks);
      if (chunks.length > 1) { chunks.length = 0; chunks.push(joined); }
      hEnd = headerBlockEnd(joined);
      if (hEnd < 0 && held > cfg.maxHeaderBytes) return fail(smtpReply(552, '5.3.4', 'GW_ERR_SMTP_HEADER_TOO_LARGE', [cfg.maxHeaderBytes]), 'bad_input');
      if (hEnd > cfg.maxHeaderBytes) return fail(smtpReply(552, '5.3.4', 'GW_ERR_SMTP_HEADER_TOO_LARGE', [cfg.maxHeaderBytes]), 'bad_input');
    }
  } catch (err) {
    return fail(isReply(err) ? err : smtpReply(451, '4.4.2', 'GW_ERR_REQUEST_TIMEOUT'), 'bad_input');
  }
  const first = chunks[0] ?? Buffer.alloc(0);
  // a message without the empty line is all header; the block gets its empty line
  const block = hEnd < 0 ? Buffer.concat([first, first.length === 0 || first.subarray(-2).toString() === '\r\n' ? Buffer.alloc(0) : Buffer.from('\r\n'), Buffer.from('\r\n')]) : first.subarray(0, hEnd);
  let body: Buffer[] = hEnd < 0 ? [] : [first.subarray(hEnd)];
  const fields = parseHeaderFields(block);

  // 2. X-IYS-* narrowing
  const mtH = headerValue(fields, 'x-iys-message-type');
  const rtH = headerValue(fields, 'x-iys-recipient-type');
  const bH = headerValue(fields, 'x-iys-brand-code');
  if (mtH !== undefined && mtH !== 'TICARI' && mtH !== 'BILGILENDIRME') return fail(smtpReply(554, '5.6.0', 'GW_ERR_SMTP_BAD_HEADER', ['X-IYS-Message-Type', 'TICARI or BILGILENDIRME']), 'bad_input');
  if (rtH !== undefined && rtH !== 'BIREYSEL' && rtH !== 'TACIR') return fail(smtpReply(554, '5.6.0', 'GW_ERR_SMTP_BAD_HEADER', ['X-IYS-Recipient-Type', 'BIREYSEL or TACIR']), 'bad_input');
  if (bH !== undefined && !/^[1-9]\d{0,9}$/.test(bH)) return fail(smtpReply(554, '5.6.0', 'GW_ERR_SMTP_BAD_HEADER', ['X-IYS-Brand-Code', 'a brand code in decimal digits']), 'bad_input');
  const brandCode = bH !== undefined ? Number(bH) : user.brandCode;
  if (brandCode !== user.brandCode && (!hasBrand({ name: user.keyName, brands: user.brands, scopes: '*' }, brandCode)
    || (deps.servedBrands.length > 0 && !deps.servedBrands.includes(brandCode)))) {
    return fail(smtpReply(550, '5.7.1', 'GW_ERR_FORBIDDEN', [`brand ${brandCode}`]), 'bad_input');
  }
  // a TICARI key's mail stays commercial (decided at RCPT); a BILGILENDIRME key's may be declared TICARI
  const messageType = user.messageType === 'TICARI' ? 'TICARI' : (mtH ?? 'BILGILENDIRME');
  const recipientType = rtH ?? user.recipientType;
  const decideNow = user.messageType !== 'TICARI' || brandCode !== user.brandCode || recipientType !== user.recipientType;

  // 3. decisions not made at RCPT
  let keep = rcpts;
  let screening: MessageScreening | null = null;
  const removed: RemovedRecipient[] = st.refused.map((r, i) => ({ index: -1 - i, input: r.input, recipient: r.recipient, reason: r.reason }));
  const window = cfg.lintMaxBytes * 2; // base64 and QP take more bytes than the text they carry
  // Subject + first text part (≤ lintMaxBytes), read from the first `window` bytes of the body, which are held
  const readTexts = async (): Promise<ReturnType<typeof lintTexts> | SmtpReplyError> => {
    try {
      while (held < window + block.length) {
        const c = await reader.next();
        if (c === null) break;
        body.push(c); held += c.length;
      }
    } catch (err) {
      return isReply(err) ? err : smtpReply(451, '4.4.2', 'GW_ERR_REQUEST_TIMEOUT');
    }
    const prefix = Buffer.concat(body);
    body = [prefix];
    return lintTexts(fields, prefix.subarray(0, window), reader.ended, cfg.lintMaxBytes);
  };
  const contentRefused = (c: NonNullable<MessageScreening['content']>) => fail(smtpReply(550, '5.7.1', 'GW_ERR_UPSTREAM_CONTENT_MISSING', [c.missing.join(', ')]), 'content_refused');
  let content: MessageScreening['content'] = null;
  if (decideNow) {
    const lint = await readTexts();
    if (lint instanceof Error) return fail(lint, 'bad_input');
    screening = await screenOutbound(deps.checks, {
      entrance: 'smtp', via: t.via, brandCode, type: 'EPOSTA', recipientType, messageType, recipients: rcpts,
      texts: lint.texts, unseenText: lint.unseenText, keyName: user.keyName,
    }, { policy: deps.config.policy.promotionalInformational });
    content = screening.content;
    if (screening.refused && screening.promo.action !== 'block' && content?.blocked) return contentRefused(content);
    if (screening.refused) {
      return fail(smtpReply(550, '5.7.1', 'GW_ERR_UPSTREAM_PROMOTIONAL_INFORMATIONAL', [(screening.promo.lint?.hits ?? []).join(', ')]), 'promotional_refused');
    }
    const temporary = screening.removed.find((r) => TEMPORARY_REASONS.has(r.reason as Reason));
    if (temporary) return fail(smtpReply(451, '4.7.1', 'GW_ERR_SMTP_RECIPIENT_DEFERRED', [temporary.reason]), 'deferred');
    keep = rcpts.filter((_a, i) => screening!.keep[i]);
    removed.push(...screening.removed);
    m.smtpRecipients('refused', screening.removed.length);
  }
  const decisionId = screening?.decisionId ?? undefined;
  const effectiveType = screening?.checkedMessageType ?? messageType;
  // 3b. the commercial content check (issue 14) of a TICARI message decided at RCPT: `block` holds the
  // text's window and decides before anything goes upstream; `warn` reads the same bytes as they
  // stream to the upstream (nothing held back) and says what is missing in the 250 reply
  const checkAfter = !screening && effectiveType === 'TICARI' && deps.checks.contentCheck !== null && deps.checks.contentCheck.mode !== 'off';
  if (checkAfter && deps.checks.contentCheck!.mode === 'block') {
    const lint = await readTexts();
    if (lint instanceof Error) return fail(lint, 'bad_input');
    content = screenContent(deps.checks, { entrance: 'smtp', brandCode, texts: lint.texts }, 'TICARI');
    if (content?.blocked) return contentRefused(content);
  }
  const seen: { chunks: Buffer[]; bytes: number } | null = checkAfter && deps.checks.contentCheck!.mode !== 'block' ? { chunks: [], bytes: 0 } : null;
  const watch = (c: Buffer) => { if (seen && seen.bytes < window) { seen.chunks.push(c); seen.bytes += c.length; } };
  for (const c of body) watch(c);

  // 4. the removal report (any refused recipient, at RCPT or now)
  const received = rcpts.length + st.refused.length;
  let reportId: string | null = null;
  if (removed.length > 0) {
    reportId = t.reports.newId();
    t.reports.put({
      id: reportId, upstream: t.via, brandCode, requestId: session.id, createdAt: new Date(deps.now()).toISOString(),
      declaredMessageType: messageType, checkedMessageType: effectiveType,
      promotional: screening ? { action: screening.promo.action, hits: [...(screening.promo.lint?.hits ?? [])] } : null,
      counts: { received, forwarded: keep.length, removed: removed.length },
      removed, outcome: keep.length === 0 ? 'not-forwarded' : 'forwarded', upstreamStatus: null, open: false,
    });
  }
  const reportText = reportId ? ` report ${reportId}` : '';
  if (keep.length === 0) {
    return fail(smtpReply(550, '5.7.1', 'GW_ERR_SMTP_ALL_REFUSED', [removed.length, received], reportText.trim() + (decisionId ? ` decision ${decisionId}` : '')), 'all_refused');
  }
  if (cfg.dsn && screening && screening.removed.length > 0 && session.envelope.mailFrom && session.envelope.mailFrom.address) {
    sendDsn(t, session.envelope.mailFrom.address, fields, consentEntries(screening.removed), 'consent', reportId).catch(() => { /* best effort: the report holds it */ });
  }

  // the RCPT-time decisions' records are on disk before anything goes upstream
  try {
    await deps.checks.decisions?.commit();
  } catch {
    return fail(smtpReply(451, '4.3.0', 'GW_ERR_DECISION_LOG_UNAVAILABLE', ['the decision log cannot write']), 'deferred');
  }
  // 5. forward: one transaction, or one copy per recipient when each gets its own unsubscribe link
  const addUnsub = effectiveType === 'TICARI' && cfg.listUnsubscribe === 'add' && cfg.unsubscribe !== undefined
    && headerValue(fields, 'list-unsubscribe') === undefined;
  const remove = (f: HeaderField) => IYS_HEADERS.has(f.name)
    || (cfg.listUnsubscribe === 'off' && (f.name === 'list-unsubscribe' || f.name === 'list-unsubscribe-post'))
    || (addUnsub && f.name === 'list-unsubscribe-post');
  const trace = [
    ...(reportId ? [`X-IYS-Gate-Report: ${reportId}`] : []),
    ...(decisionId ? [`X-IYS-Gate-Decision: ${decisionId}`] : []),
  ];
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const now = deps.now();
  // the message's identity for a retry after a partial delivery (delivered-copies.ts)
  const hasher = createHash('sha256').update(user.keyName).update('\0').update(from).update('\0').update(block);
  const preKey = hasher.copy().digest('hex');
  for (const b of body) hasher.update(b);
  const mayBeRetry = t.copies.has(preKey, now);
  const copies = addUnsub && keep.length > 1;
  let rest: Buffer | null = null;
  if (copies || mayBeRetry) {
    // held whole (≤ maxMessageBytes): every copy carries its recipient's own token, or the
    // message may be a retry whose full hash says who has it already
    const all: Buffer[] = [...body];
    try {
      for (let c = await reader.next(); c !== null; c = await reader.next()) { all.push(c); hasher.update(c); watch(c); }
    } catch (err) {
      return fail(isReply(err) ? err : smtpReply(451, '4.4.2', 'GW_ERR_REQUEST_TIMEOUT'), 'bad_input');
    }
    if (reader.sizeExceeded) return fail(smtpReply(552, '5.3.4', 'GW_ERR_BODY_TOO_LARGE', [cfg.maxMessageBytes]), 'bad_input');
    rest = all.length === 1 ? all[0]! : Buffer.concat(all);
  }
  let hash = rest ? hasher.digest('hex') : '';
  const earlier = rest && mayBeRetry ? t.copies.delivered(preKey, hash, now) : new Set<string>();
  const toSend = earlier.size === 0 ? keep : keep.filter((r) => !earlier.has(r.toLowerCase()));
  const headFor = (rcpt: string | null) => rebuildHeaderBlock(block, fields, remove,
    rcpt !== null && addUnsub ? [...trace, ...listUnsubscribeHeaders(cfg, brandCode, recipientType, rcpt, now)] : trace);
  let results: RecipientResult[] = [];
  let response = 'taken on an earlier attempt';
  if (toSend.length > 1 && addUnsub) {
    results = await Promise.all(toSend.map((rcpt) => sendCopy(t, from, rcpt, headFor(rcpt), rest!)));
    response = results.map((r) => r.response).find((r) => r !== '') ?? '';
  } else if (toSend.length > 0) {
    let bad: Error | null = null;
    const head = headFor(addUnsub ? toSend[0]! : null);
    const message = rest ? Readable.from([head, rest], { objectMode: false }) : reader.rest([head, ...body], (e) => { bad = e; }, (c) => { hasher.update(c); watch(c); });
    const o = await t.upstream.send(from, toSend, message);
    if (bad !== null) return fail(isReply(bad) ? bad : smtpReply(552, '5.3.4', 'GW_ERR_BODY_TOO_LARGE', [cfg.maxMessageBytes]), 'bad_input');
    if (!rest) hash = hasher.digest('hex');
    results = resultsOf(toSend, o);
    if (o.ok) response = o.response;
  }
  if (seen) content = screenContent(deps.checks, { entrance: 'smtp', brandCode, texts: lintTexts(fields, Buffer.concat(seen.chunks).subarray(0, window), seen.bytes < window, cfg.lintMaxBytes).texts }, 'TICARI');
  // said in the 250 reply, the SMTP client's answer (the proxy's X-IYS-Gate-Content header); the forwarded mail is not marked
  const contentText = content ? ` X-IYS-Gate-Content: missing=${content.missing.join(',')}` : '';
  return settle(t, {
    fail, fields, from, preKey, hash, now, mayBeRetry, received, keep, earlier: keep.filter((r) => earlier.has(r.toLowerCase())), results, response,
    removedCount: removed.length, tail: `${reportText}${decisionId ? ` decision ${decisionId}` : ''}${contentText}`, reportId,
  });
}

/** What the upstream did with one envelope recipient. */
export type RecipientResult =
  | { rcpt: string; state: 'delivered'; response: string }
  | { rcpt: string; state: 'temporary' | 'permanent'; code: number; detail: string; response: '' };

function failed(rcpt: string, o: { temporary: boolean; code: number; detail: string }): RecipientResult {
  return { rcpt, state: o.temporary ? 'temporary' : 'permanent', code: o.code, detail: o.detail, response: '' };
}

/** Per-recipient results of one upstream transaction (a success may still refuse some at RCPT TO). */
function resultsOf(rcpts: readonly string[], o: UpstreamOutcome): RecipientResult[] {
  if (!o.ok) return rcpts.map((r) => failed(r, o));
  const refused = new Map(o.rejected.map((r) => [r.recipient.toLowerCase(), r]));
  return rcpts.map((r) => {
    const x = refused.get(r.toLowerCase());
    return x ? failed(r, x) : { rcpt: r, state: 'delivered', response: o.response };
  });
}

/**
 * One recipient's own copy (its own List-Unsubscribe token). A temporary failure (4xx, timeout,
 * unreachable) is sent again up to `upstream.retries` times, `retryDelayMs` apart (doubling), no
 * retry starting later than `upstream.timeoutMs` after the first attempt. Header and body are
 * two buffers (the body shared by every copy, never copied).
 */
async function sendCopy(t: TransactionDeps, from: string, rcpt: string, head: Buffer, rest: Buffer): Promise<RecipientResult> {
  const u = t.cfg.upstream;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const o = await t.upstream.send(from, [rcpt], Readable.from([head, rest], { objectMode: false }));
    const r = resultsOf([rcpt], o)[0]!;
    if (r.state !== 'temporary' || attempt >= u.retries) return r;
    const wait = u.retryDelayMs * 2 ** attempt;
    if (Date.now() - started + wait > u.timeoutMs) return r;
    await new Promise((res) => setTimeout(res, wait));
  }
}

/**
 * The DATA reply once the upstream answered for every recipient (README "Partial upstream
 * failures"). The rule: 250 only when every accepted recipient has the message (now, or on an
 * earlier attempt of the same bytes), or when the only ones without it were refused permanently
 * by the upstream and a DSN (RFC 3464) saying so was taken by the upstream for the envelope
 * sender: after a 250 the relay owes the sender a notification of any failure (RFC 5321 §6.1).
 * Nothing taken by anyone: 451 when any failure was temporary, else the upstream's 5xx (as one
 * transaction). Taken for some, not for others (and no DSN taken): the relay remembers who has
 * it (delivered-copies.ts) and answers 451 4.4.1 GW_ERR_SMTP_UPSTREAM_PARTIAL; the client's
 * retry of the same message goes only to the others. With the null sender no DSN may be sent:
 * only permanent refusals left → the upstream's 5xx, its text naming the partial delivery.
 */
async function settle(t: TransactionDeps, s: {
  fail: (e: SmtpReplyError, outcome: string) => DataReply; fields: readonly HeaderField[]; from: string; preKey: string; hash: string; now: number;
  mayBeRetry: boolean; received: number; keep: readonly string[]; earlier: readonly string[]; results: readonly RecipientResult[];
  response: string; removedCount: number; tail: string; reportId: string | null;
}): Promise<DataReply> {
  const m = t.deps.metrics;
  const delivered = s.results.filter((r) => r.state === 'delivered').map((r) => r.rcpt);
  const temp = s.results.filter((r) => r.state === 'temporary') as Array<RecipientResult & { state: 'temporary' }>;
  const perm = s.results.filter((r) => r.state === 'permanent') as Array<RecipientResult & { state: 'permanent' }>;
  const have = delivered.length + s.earlier.length;
  m.smtpRecipients('forwarded', delivered.length);
  const ok = (note: string): DataReply => {
    if (s.mayBeRetry) t.copies.forget(s.preKey);
    m.smtpMessage(t.via, s.removedCount > 0 || perm.length > 0 ? 'forwarded_partial' : 'forwarded');
    return { ok: true, text: `2.6.0 Ok: forwarded to ${have} of ${s.received} recipients${note}${s.tail}; upstream: ${oneLine(s.response).slice(0, 120)}` };
  };
  const earlierNote = s.earlier.length > 0 ? ` (${s.earlier.length} on an earlier attempt)` : '';
  if (temp.length === 0 && perm.length === 0) return ok(earlierNote);
  m.smtpRecipients('upstream_failed', temp.length + perm.length);
  const label = t.upstream.label;
  if (have === 0) {
    if (temp.length > 0) return s.fail(smtpReply(451, '4.4.1', 'GW_ERR_SMTP_UPSTREAM_DEFERRED', [label, temp[0]!.detail]), 'upstream_deferred');
    const p = perm[0]!;
    return s.fail(smtpReply(p.code, enhancedOf(p.detail, '5.0.0'), 'GW_ERR_SMTP_UPSTREAM_REFUSED', [label, p.detail]), 'upstream_refused');
  }
  t.deps.log.warn({ via: t.via, delivered: have, deferred: temp.length, refused: perm.length }, 'smtp: the upstream took the message for some recipients only');
  if (temp.length === 0 && s.from !== '') {
    const entries = perm.map((p) => ({ recipient: p.rcpt, status: enhancedOf(p.detail, `${String(p.code)[0]}.0.0`), diagnostic: p.detail }));
    if (await sendDsn(t, s.from, s.fields, entries, 'upstream', s.reportId)) {
      return ok(`${earlierNote}; ${perm.length} refused by the upstream (${perm[0]!.detail.slice(0, 80)}), a DSN went to the envelope sender`);
    }
  }
  t.copies.remember(s.preKey, s.hash, [...s.earlier, ...delivered], s.now);
  const first = temp[0] ?? perm[0]!;
  if (temp.length > 0 || s.from !== '') {
    return s.fail(smtpReply(451, '4.4.1', 'GW_ERR_SMTP_UPSTREAM_PARTIAL', [label, have, s.keep.length, first.detail]), 'upstream_partial');
  }
  return s.fail(smtpReply(first.code, enhancedOf(first.detail, '5.0.0'), 'GW_ERR_SMTP_UPSTREAM_REFUSED', [label, first.detail], `(taken for ${have} of ${s.keep.length} recipients; the null sender gets no DSN)`), 'upstream_partial');
}

function isReply(e: unknown): e is SmtpReplyError {
  return e instanceof Error && typeof (e as SmtpReplyError).responseCode === 'number' && typeof (e as SmtpReplyError).gwCode === 'string';
}

/** The enhanced status code in an upstream reply (`550 5.1.1 …`), else `fallback`. */
function enhancedOf(detail: string, fallback: string): string {
  return /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(detail)?.[1] ?? fallback;
}
