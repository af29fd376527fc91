import type { UpstreamConfig } from '../http-proxy/upstream-config.ts';
import type { InboundConfig } from '../../config/inbound-schema.ts';
import type { InboundReplies, InboundReply } from './handle-reply.ts';
import type { InboundState } from './inbound-state.ts';
import type { InboundLog } from './index.ts';
import { UnreadableDelivery, readIletimerkezi, readNetgsm, readVerimor } from './providers.ts';

type Settings = InboundConfig['upstreams'][string];

/** `ddMMyyyyHHmm` in Istanbul time (Netgsm's inbox date parameters). */
function netgsmDate(ms: number): string {
  const d = new Date(ms + 3 * 3_600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}${p(d.getUTCMonth() + 1)}${d.getUTCFullYear()}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

/** Overlap of successive Netgsm windows (its dates have minute resolution; de-duplication absorbs the repeats). */
const NETGSM_OVERLAP_MS = 5 * 60_000;

/**
 * Polls one provider's inbox (providers.ts says what each offers) every `pollIntervalMs` and hands
 * each message to the inbound handler; the cursor is durable in InboundState (`poll:<upstream>`)
 * and moves only after every message of a page was handled durably, so a crash re-reads a page
 * (de-duplicated) and never skips one:
 * - Verimor: `GET /v2/inbound_messages?greater_than=<last message_id>` (100 a page; cursor = last id);
 * - Netgsm: `GET /sms/rest/v2/inbox?startdate&stopdate` (Basic auth), window from the cursor
 *   (last poll's stop minus 5 min, first poll: the last 24 h) to now; never the dateless form,
 *   which marks messages read;
 * - iletiMerkezi: `POST /v1/get-inbox/json` (no cursor parameter: every answer is de-duplicated;
 *   the cursor records the last successful poll).
 * A failed poll (network, non-2xx, unreadable answer) is logged and tried again next period.
 */
export class InboxPoller {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;
  readonly base: string;
  readonly name: string;
  lastError: string | null = null;

  constructor(private readonly o: { upstream: UpstreamConfig; settings: Settings; replies: InboundReplies; state: InboundState; log: InboundLog; now: () => number; fetch?: typeof fetch }) {
    this.base = (o.settings.apiUrl ?? o.upstream.url).replace(/\/+$/, '');
    this.name = o.upstream.name;
  }

  start(): void {
    if (this.#stopped || this.#timer) return;
    const tick = () => {
      this.#running = this.pollOnce().then(() => { this.lastError = null; }, (err) => { this.lastError = (err as Error).message; this.o.log.warn({ upstream: this.name, err: this.lastError }, 'inbox poll failed'); })
        .finally(() => { this.#running = null; if (!this.#stopped) { this.#timer = setTimeout(tick, this.o.settings.pollIntervalMs); this.#timer.unref(); } });
    };
    this.#timer = setTimeout(tick, 0);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** One poll (every page); resolves when every message read was handled durably. @returns messages read */
  async pollOnce(): Promise<number> {
    const f = this.o.fetch ?? fetch;
    const creds = this.o.settings.credentials!;
    const key = `poll:${this.name}`;
    const handle = async (list: InboundReply[]) => { await this.o.replies.handleMany(list); };
    const getJson = async (url: string, init: RequestInit): Promise<unknown> => {
      const res = await f(url, { ...init, signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${this.name} inbox answered HTTP ${res.status}`);
      try { return JSON.parse(text); } catch { throw new UnreadableDelivery(`${this.name} inbox answer is not JSON`); }
    };
    let n = 0;
    switch (this.o.upstream.adapter) {
      case 'verimor': {
        for (let page = 0; page < 100; page++) {
          const after = this.o.state.cursor(key) ?? '0';
          const q = new URLSearchParams({ greater_than: after, username: creds.username, password: creds.password });
          const list = readVerimor(await getJson(`${this.base}/v2/inbound_messages?${q}`, { method: 'GET' }), this.name);
          await handle(list);
          n += list.length;
          if (list.length === 0) break;
          const last = list.reduce((m, r) => (BigInt(r.messageId) > BigInt(m) ? r.messageId : m), after);
          await this.o.state.setCursor(key, last);
          if (list.length < 100) break;
        }
        return n;
      }
      case 'netgsm': {
        const now = this.o.now();
        const from = Number(this.o.state.cursor(key) ?? now - 86_400_000) - NETGSM_OVERLAP_MS;
        const q = new URLSearchParams({ startdate: netgsmDate(from), stopdate: netgsmDate(now + 60_000) });
        const auth = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
        const list = readNetgsm(await getJson(`${this.base}/sms/rest/v2/inbox?${q}`, { method: 'GET', headers: { authorization: auth } }), this.name);
        await handle(list);
        await this.o.state.setCursor(key, String(now));
        return list.length;
      }
      case 'iletimerkezi': {
        const body = JSON.stringify({ request: { authentication: { key: creds.username, hash: creds.password } } });
        const list = readIletimerkezi(await getJson(`${this.base}/v1/get-inbox/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }), this.name);
        await handle(list);
        await this.o.state.setCursor(key, String(this.o.now()));
        return list.length;
      }
      default:
        throw new Error(`${this.name}: adapter ${this.o.upstream.adapter} has no inbox to poll`);
    }
  }
}
