/**
 * In-memory state of the İYS simulator: consents (current record per key), the movement log
 * that feeds pull, push, history, daily files and agreements, batch requests, push
 * registrations, agreement confirmations and v2 idempotency records. Serialisable as one JSON
 * snapshot (optional data directory).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ConsentStatus, ConsentType, RecipientType } from '../domain/types.ts';
import type { IysErrorItem } from '../iys/h-codes.ts';

/** One movement: a state change of one key, as İYS reports it (pull, history, file, push). */
export interface SimMovement {
  iysCode: number;
  brandCode: number;
  recipient: string;
  recipientType: RecipientType;
  type: ConsentType;
  status: ConsentStatus;
  source: string | null;
  consentDate: string | null;
  /** `YYYY-MM-DD HH:mm:ss` Turkish time. */
  creationDate: string;
  /** Epoch ms of creation (ordering). */
  creationMs: number;
  transactionId: string;
  /** Insertion order, a tiebreaker. */
  seq: number;
  retailerCode?: number;
  retailerAccess?: number[];
  citizenName?: string;
}

/** One item of a batch request. */
export interface SimBatchItem {
  index: number;
  subrequestId: string;
  body: Record<string, unknown>;
  result?: {
    status: 'success' | 'failure' | 'enqueue';
    transactionId?: string;
    creationDate?: string;
    error?: { code: string; message: string };
    originalRequestInformation?: { requestId: string; subRequestId: string };
  };
}

export interface SimBatch {
  requestId: string;
  iysCode: number;
  brandCode: number;
  v2: boolean;
  submittedMs: number;
  creationDate: string;
  items: SimBatchItem[];
  processed: boolean;
}

export interface SimPushRegistration {
  iysCode: number;
  brandCode: number;
  url: string;
  type: ConsentType;
  username: string;
  password: string;
  registerTime: string;
}

/** A push delivery attempt (admin API `/_sim/push/deliveries`). */
export interface SimPushDelivery {
  url: string;
  brandCode: number;
  transactionIds: string[];
  ok: boolean;
  status: number | null;
  error: string | null;
  atMs: number;
}

export interface SimStateSnapshot {
  movements: SimMovement[];
  batches: SimBatch[];
  pushRegistrations: SimPushRegistration[];
  agreements: Record<string, boolean>;
  v2Single: Record<string, { transactionId: string; creationDate: string }>;
  seq: number;
}

/** Key of a consent: `iysCode|brandCode|recipientType|type|recipient`. */
export const stateKey = (iysCode: number, brandCode: number, recipientType: string, type: string, recipient: string): string =>
  `${iysCode}|${brandCode}|${recipientType}|${type}|${recipient}`;

/**
 * The 64-hex transactionId of a movement: one id per (brand, key) per second, so movements of one
 * address and type recorded in the same second share it (iys-reference.md §2.9).
 */
export function transactionIdFor(brandCode: number, recipientType: string, type: string, recipient: string, creationSecond: number): string {
  return createHash('sha256').update(`${brandCode}|${recipientType}|${type}|${recipient}|${creationSecond}`).digest('hex');
}

/** The simulator's mutable state. */
/** The simulator's mutable state (see the module header). */
export class SimState {
  readonly movements: SimMovement[] = [];
  readonly current = new Map<string, SimMovement>();
  readonly batches = new Map<string, SimBatch>();
  readonly pushRegistrations: SimPushRegistration[] = [];
  readonly pushDeliveries: SimPushDelivery[] = [];
  /** `iysCode|brandCode|reportDate` → agreement confirmed. */
  readonly agreements = new Map<string, boolean>();
  /** v2 single-write idempotency: hash of (path params, body) → first answer. */
  readonly v2Single = new Map<string, { transactionId: string; creationDate: string }>();
  /** v2 batch: identity of a written consent → the request/subrequest that wrote it. */
  readonly v2Origin = new Map<string, { requestId: string; subRequestId: string }>();
  /** Recipients whose batch items stay `enqueue` (admin hold). */
  readonly heldRecipients = new Set<string>();
  private seq = 0;

  /** Records a movement and makes it the key's current record. */
  addMovement(m: Omit<SimMovement, 'seq'>): SimMovement {
    const mv: SimMovement = { ...m, seq: ++this.seq };
    this.movements.push(mv);
    this.#version++;
    this.current.set(stateKey(mv.iysCode, mv.brandCode, mv.recipientType, mv.type, mv.recipient), mv);
    return mv;
  }

  /** The current record of a key, or undefined. */
  get(iysCode: number, brandCode: number, recipientType: string, type: string, recipient: string): SimMovement | undefined {
    return this.current.get(stateKey(iysCode, brandCode, recipientType, type, recipient));
  }

  /** Distinct keys held by an iysCode (quota, H525). */
  keysOf(iysCode: number): number {
    let n = 0;
    for (const k of this.current.keys()) if (k.startsWith(`${iysCode}|`)) n++;
    return n;
  }

  /**
   * Movements of one brand sorted as İYS's daily file and pull feed are: creation second, then
   * transactionId, then insertion order.
   */
  brandMovements(iysCode: number, brandCode: number): readonly SimMovement[] {
    // Cached per brand until the next movement: a pull sequence of many pages sorts once, not
    // once per page (the sort made paging quadratic in the number of movements).
    const k = `${iysCode}|${brandCode}`;
    const hit = this.#sorted.get(k);
    if (hit && hit.version === this.#version) return hit.list;
    const sec = (m: SimMovement): number => Math.floor(m.creationMs / 1000);
    const list = this.movements
      .filter((m) => m.iysCode === iysCode && m.brandCode === brandCode)
      .sort((a, b) => sec(a) - sec(b) || (a.transactionId < b.transactionId ? -1 : a.transactionId > b.transactionId ? 1 : 0) || a.seq - b.seq);
    this.#sorted.set(k, { version: this.#version, list });
    return list;
  }

  readonly #sorted = new Map<string, { version: number; list: SimMovement[] }>();
  #version = 0;

  newRequestId(): string {
    return randomUUID();
  }

  /** JSON snapshot of everything durable. */
  snapshot(): SimStateSnapshot {
    return {
      movements: this.movements,
      batches: [...this.batches.values()],
      pushRegistrations: this.pushRegistrations,
      agreements: Object.fromEntries(this.agreements),
      v2Single: Object.fromEntries(this.v2Single),
      seq: this.seq,
    };
  }

  /** Replaces the state with a snapshot. */
  restore(s: SimStateSnapshot): void {
    this.#version++;
    this.movements.length = 0;
    this.current.clear();
    for (const m of [...s.movements].sort((a, b) => a.seq - b.seq)) {
      this.movements.push(m);
      this.current.set(stateKey(m.iysCode, m.brandCode, m.recipientType, m.type, m.recipient), m);
    }
    this.batches.clear();
    for (const b of s.batches) this.batches.set(b.requestId, b);
    this.pushRegistrations.length = 0;
    this.pushRegistrations.push(...s.pushRegistrations);
    this.agreements.clear();
    for (const [k, v] of Object.entries(s.agreements)) this.agreements.set(k, v);
    this.v2Single.clear();
    for (const [k, v] of Object.entries(s.v2Single)) this.v2Single.set(k, v);
    this.seq = s.seq;
  }
}

/** Error items → İYS envelope. */
export const envelope = (errors: IysErrorItem[]): { errors: IysErrorItem[] } => ({ errors });
