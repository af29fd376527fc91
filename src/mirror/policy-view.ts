import type { PolicyRecord } from '../domain/policy.ts';

/** Record flag bits shared by the embedded stores' layouts (memory-store.ts, lmdb-codec.ts). */
export const FLAG_RET = 1;
export const FLAG_NONCANONICAL = 2;

/** Shared frozen policy views by the two low flag bits (RET, non-canonical): do not mutate. */
const VIEWS: readonly PolicyRecord[] = [
  Object.freeze({ status: 'ONAY', noncanonical: false }), Object.freeze({ status: 'RET', noncanonical: false }),
  Object.freeze({ status: 'ONAY', noncanonical: true }), Object.freeze({ status: 'RET', noncanonical: true }),
];

/**
 * What the decision policy needs of a stored record (the batch path's `peekMany`), from its flag
 * bits and dealer data: a shared frozen view when the record has no dealer data, else a fresh one.
 */
export function policyView(flags: number, retailer: { code: number | null; access: number[] | null } | null | undefined): PolicyRecord {
  return retailer
    ? { status: flags & FLAG_RET ? 'RET' : 'ONAY', noncanonical: (flags & FLAG_NONCANONICAL) !== 0, retailerCode: retailer.code, retailerAccess: retailer.access }
    : VIEWS[flags & 3]!;
}
