import { Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../plugins/fast-metrics.ts';

/** What became of one PDU from an ESME (label `outcome`; bounded). */
export type PduOutcome =
  | 'forwarded' | 'blocked' | 'temporary' | 'throttled' | 'malformed' | 'upstream_error' | 'upstream_down' | 'timeout' | 'refused';

/** Commands counted (label `command`; anything else is `other`). */
const COMMANDS = ['submit_sm', 'data_sm', 'submit_multi', 'deliver_sm', 'bind', 'unbind', 'enquire_link', 'other'] as const;
export type CountedCommand = (typeof COMMANDS)[number];

/**
 * Metrics of the SMPP front, on the gateway's registry; every label is bounded (configured
 * system_ids and upstream names, enums): never an address. Slots are found once per label set.
 */
export class SmppMetrics {
  readonly #pdus: FastCounter;
  readonly #recipients: FastCounter;
  readonly #latency: FastHistogram;
  readonly #slots = new Map<string, number>();
  readonly #latencySlots = new Map<string, number>();
  readonly binds: Gauge<'system_id' | 'mode'>;
  readonly window: Gauge<'upstream'>;
  readonly upstreamBinds: Gauge<'upstream'>;

  /** @param sources read at scrape time: bound ESME sessions and upstream windows */
  constructor(registry: Registry, sources: {
    sessions: () => Iterable<{ systemId: string; mode: string }>;
    upstreams: () => Iterable<{ name: string; inFlight: number; boundCount: number }>;
  }) {
    this.#pdus = new FastCounter('iysgate_smpp_pdus_total', 'SMPP PDUs from ESMEs and upstreams, by command and outcome', registry);
    this.#recipients = new FastCounter('iysgate_smpp_recipients_total', 'Recipients of screened SMPP messages, by bind (system_id) and decision (ALLOW, BLOCK)', registry);
    this.#latency = new FastHistogram('iysgate_smpp_upstream_duration_seconds', 'Time from a PDU written to an upstream SMSC to its response, by upstream (outcome error: none)',
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registry);
    this.binds = new Gauge({
      name: 'iysgate_smpp_binds', help: 'ESME sessions bound, by system_id and mode (transmitter, receiver, transceiver)', labelNames: ['system_id', 'mode'], registers: [registry],
      collect() {
        this.reset();
        for (const s of sources.sessions()) this.inc({ system_id: s.systemId, mode: s.mode });
      },
    });
    this.window = new Gauge({
      name: 'iysgate_smpp_upstream_window_in_use', help: 'PDUs in flight to an upstream SMSC', labelNames: ['upstream'], registers: [registry],
      collect() { for (const u of sources.upstreams()) this.set({ upstream: u.name }, u.inFlight); },
    });
    this.upstreamBinds = new Gauge({
      name: 'iysgate_smpp_upstream_binds', help: 'Client binds to an upstream SMSC that are bound', labelNames: ['upstream'], registers: [registry],
      collect() { for (const u of sources.upstreams()) this.set({ upstream: u.name }, u.boundCount); },
    });
  }

  /** Counts one PDU. */
  pdu(command: CountedCommand, outcome: PduOutcome): void {
    const k = command + '\u0000' + outcome;
    let s = this.#slots.get(k);
    if (s === undefined) { s = this.#pdus.slot({ command, outcome }); this.#slots.set(k, s); }
    this.#pdus.inc(s);
  }

  /** Counts screened recipients of one bind. */
  recipients(systemId: string, allowed: number, blocked: number): void {
    if (allowed > 0) this.#recipients.inc(this.#slot(this.#recipients, 'a' + systemId, { system_id: systemId, decision: 'ALLOW' }), allowed);
    if (blocked > 0) this.#recipients.inc(this.#slot(this.#recipients, 'b' + systemId, { system_id: systemId, decision: 'BLOCK' }), blocked);
  }

  /** Records an upstream round trip (seconds); `ok` false when no response came. */
  upstreamLatency(upstream: string, ok: boolean, seconds: number): void {
    const k = (ok ? 'o' : 'e') + upstream;
    let s = this.#latencySlots.get(k);
    if (s === undefined) { s = this.#latency.slot({ upstream, outcome: ok ? 'response' : 'error' }); this.#latencySlots.set(k, s); }
    this.#latency.observe(s, seconds);
  }

  #slot(m: FastCounter, key: string, labels: Record<string, string>): number {
    let s = this.#slots.get(key);
    if (s === undefined) { s = m.slot(labels); this.#slots.set(key, s); }
    return s;
  }
}
