import type { GatewayConfig } from '../../config/schema.ts';
import type { InboundConfig } from '../../config/inbound-schema.ts';
import type { ConfirmationSender } from './handle-reply.ts';

/**
 * The informational confirmation SMS after a refusal from a reply (issue 14): one SMS through the
 * configured upstream's own send API, with `inbound.upstreams.<upstream>.credentials`, sent as
 * BILGILENDIRME (no İYS filter: it informs about the refusal just recorded, it promotes nothing).
 * Shapes: Netgsm REST v2 `POST /sms/rest/v2/send` (Basic auth, `{msgheader, iysfilter: "0",
 * messages: [{msg, no}]}`), Verimor `POST /v2/send.json` (`{username, password, source_addr,
 * messages: [{msg, dest}]}`), iletiMerkezi `POST /v1/send-sms/json` (`{request: {authentication,
 * order: {sender, iys: "0", message: {text, receipents: {number: […]}}}}}`), a `webhook` upstream
 * `POST <url>` `{to, text, header}`. Bounded to 5 s; a non-2xx answer is an error (counted, logged,
 * never retried: the log claims the day's confirmation before sending, so it is at most once).
 * @throws Error at boot when the upstream is not configured or has no credentials (config check)
 */
export function confirmationSender(config: GatewayConfig, c: NonNullable<InboundConfig['confirmation']>, shortNames: ReadonlyMap<string, number>): ConfirmationSender {
  const u = config.upstreams.find((x) => x.name === c.upstream);
  const creds = config.inbound.upstreams[c.upstream]?.credentials;
  if (!u || (!creds && u.adapter !== 'webhook')) throw new Error(`inbound.confirmation.upstream ${c.upstream}: no such upstream with inbound credentials`);
  const base = (config.inbound.upstreams[c.upstream]?.apiUrl ?? u.url).replace(/\/+$/, '');
  const nameOf = new Map<number, string>();
  for (const [n, b] of shortNames) if (!nameOf.has(b)) nameOf.set(b, n);
  return async (to, brandCode) => {
    const text = c.text.replaceAll('{brand}', nameOf.get(brandCode) ?? String(brandCode));
    const digits = to.replace(/^\+/, '');
    let url: string; let body: unknown; const headers: Record<string, string> = { 'content-type': 'application/json' };
    switch (u.adapter) {
      case 'netgsm':
        url = `${base}/sms/rest/v2/send`;
        headers.authorization = `Basic ${Buffer.from(`${creds!.username}:${creds!.password}`).toString('base64')}`;
        body = { msgheader: c.header, encoding: 'TR', iysfilter: '0', messages: [{ msg: text, no: digits }] };
        break;
      case 'verimor':
        url = `${base}/v2/send.json`;
        body = { username: creds!.username, password: creds!.password, source_addr: c.header, messages: [{ msg: text, dest: digits }] };
        break;
      case 'iletimerkezi':
        url = `${base}/v1/send-sms/json`;
        body = { request: { authentication: { key: creds!.username, hash: creds!.password }, order: { sender: c.header, iys: '0', message: { text, receipents: { number: [digits] } } } } };
        break;
      default:
        url = base;
        body = { to, text, header: c.header };
    }
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${c.upstream} answered HTTP ${res.status} to the confirmation`);
  };
}
