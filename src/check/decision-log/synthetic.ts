import { RECORD_BYTES, encodeRecord, type ContextEntry, type DecisionFields } from './record-format.ts';
import type { WriterBatch } from './segment-writer.ts';

/**
 * Batches for the writer built from plain fields: how tests and benches generate decision logs
 * (10 days of records, 100M records) without going through HTTP. Not used by the gateway.
 */
export type SyntheticDecision = Partial<DecisionFields> & Pick<DecisionFields, 'timeMs' | 'seq'> & { recipient: string | null };

const DEFAULTS: DecisionFields = {
  timeMs: 0, seq: 0, index: 0, brandCode: 1, type: 'MESAJ', recipientType: 'BIREYSEL', declaredMessageType: 'TICARI', messageType: 'TICARI',
  decision: 'ALLOW', reason: 'CONSENT_ONAY', entrance: 'check', lint: 'not-run', consentStatus: 'ONAY', source: 'HS_WEB', consentDateS: 1_700_000_000, ref: 1, contextId: 0,
};

/** One writer batch of `ds` (context 0 = `dict[0]`, default key `synthetic` via ``). */
export function syntheticBatch(ds: readonly SyntheticDecision[], dict: ContextEntry[] = [{ id: 0, keyName: 'synthetic', via: '' }], asOfMs = 0): WriterBatch {
  const records = Buffer.alloc(ds.length * RECORD_BYTES);
  ds.forEach((d, i) => encodeRecord(records, i * RECORD_BYTES, { ...DEFAULTS, ...d }));
  return { records, count: ds.length, recipients: ds.map((d) => d.recipient), asOfMs, dict, notes: [] };
}
