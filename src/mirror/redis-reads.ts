import type { ConsentKey, ConsentRecord } from '../domain/types.ts';
import type { PolicyRecord } from '../domain/policy.ts';
import type { ConsentCache } from './cached-store.ts';
import { decodePolicy, decodePolicyValue, decodeValue, encodeField } from './redis-codec.ts';

/**
 * A batched read of the Redis store: encoded fields, cache answers, and the misses grouped by
 * bucket. `keys` the bucket hashes, `lists` the Lua argument (fields of a bucket joined by '\n',
 * buckets by '\t', as getRecords-n.lua reads it), `order` the key indexes in
 * reply order, `groups` the misses per bucket (the cluster path's HMGETs).
 */
export interface ReadPlan<T> {
  out: (T | null)[];
  fields: string[];
  missing: number;
  groups: Map<number, number[]>;
  keys: string[];
  lists: string;
  order: number[];
}

/**
 * Encodes `keys` (unless the caller already did: `encoded`, same order), answers what `lookup`
 * (the cache) can, and groups the rest by bucket.
 * @throws `GW_ERR_VALIDATION` for a key that cannot be encoded (redis-codec.ts encodeField)
 */
export function planRead<T>(
  keys: readonly ConsentKey[], lookup: ((field: string) => T | null | undefined) | null,
  bucketOf: (field: string) => number, bucketKey: (bucket: number) => string, encoded?: readonly string[],
): ReadPlan<T> {
  const n = keys.length;
  const out = new Array<T | null>(n).fill(null);
  const fields = new Array<string>(n);
  const groups = new Map<number, number[]>();
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const f = encoded ? encoded[i]! : encodeField(keys[i]!);
    fields[i] = f;
    if (lookup) {
      const hit = lookup(f);
      if (hit !== undefined) { out[i] = hit; continue; }
    }
    missing++;
    const b = bucketOf(f);
    const g = groups.get(b);
    if (g) g.push(i); else groups.set(b, [i]);
  }
  const bucketKeys: string[] = [];
  const order: number[] = [];
  let lists = '';
  if (missing > 0) {
    for (const [b, idx] of groups) {
      bucketKeys.push(bucketKey(b));
      if (lists !== '') lists += '\t';
      for (let j = 0; j < idx.length; j++) {
        if (j > 0) lists += '\n';
        lists += fields[idx[j]!]!;
        order.push(idx[j]!);
      }
    }
  }
  return { out, fields, missing, groups, keys: bucketKeys, lists, order };
}

/** One Lua call of a sliced read: its bucket keys, its argument and its key indexes in reply order. */
export interface ReadSlice { keys: string[]; lists: string; order: number[] }

/**
 * Splits a read plan's misses into calls of about `maxKeys` keys each, whole buckets per call
 * (getRecords-n.lua reads a bucket's fields in one HMGET), in the plan's bucket order. A bucket
 * with more than `maxKeys` misses is one call of its own.
 */
export function sliceRead(groups: ReadonlyMap<number, readonly number[]>, fields: readonly string[], maxKeys: number, bucketKey: (bucket: number) => string): ReadSlice[] {
  const out: ReadSlice[] = [];
  let cur: ReadSlice = { keys: [], lists: '', order: [] };
  for (const [b, idx] of groups) {
    if (cur.order.length > 0 && cur.order.length + idx.length > maxKeys) { out.push(cur); cur = { keys: [], lists: '', order: [] }; }
    cur.keys.push(bucketKey(b));
    if (cur.lists !== '') cur.lists += '\t';
    for (let j = 0; j < idx.length; j++) {
      if (j > 0) cur.lists += '\n';
      cur.lists += fields[idx[j]!]!;
      cur.order.push(idx[j]!);
    }
  }
  if (cur.order.length > 0) out.push(cur);
  return out;
}

/**
 * What a batched read returns and how: whole records (getMany) or policy views (getPolicyMany),
 * both read by getRecords-n.lua in the matching mode, with the matching cache calls.
 */
export interface ReadKind<T> {
  /** ARGV[2] of getRecords-n.lua: the reply's format. */
  mode: 'whole' | 'policy';
  lookup(cache: ConsentCache, field: string): T | null | undefined;
  fill(cache: ConsentCache, token: number, field: string, rec: T | null): void;
  /** Walks the script's reply in `order`, calling `put(index, record)` once per key. */
  fromReply(blob: Buffer, order: readonly number[], keys: readonly ConsentKey[], put: (i: number, rec: T | null) => void): void;
  /** Decodes one whole stored value (cluster path: HMGET). */
  fromValue(key: ConsentKey, v: Buffer): T;
}

/** Whole records: reply = per key a 2-byte length (0xFFFF: none) and the stored value. */
export const WHOLE_RECORDS: ReadKind<ConsentRecord> = {
  mode: 'whole',
  lookup: (cache, f) => cache.lookup(f),
  fill: (cache, token, f, rec) => cache.fill(token, f, rec),
  fromReply(blob, order, keys, put) {
    let o = 0;
    for (const i of order) {
      const len = blob.readUInt16BE(o);
      o += 2;
      if (len === 0xffff) { put(i, null); continue; }
      put(i, decodeValue(keys[i]!, blob.subarray(o, o + len)));
      o += len;
    }
  },
  fromValue: (key, v) => decodeValue(key, v),
};

/** Policy views: reply = per key `-` (none) or the status byte, a 2-byte length and the extras. */
export const POLICY_VIEWS: ReadKind<PolicyRecord> = {
  mode: 'policy',
  lookup: (cache, f) => cache.lookupPolicy(f),
  fill: (cache, token, f, rec) => cache.fillPolicy(token, f, rec),
  fromReply(blob, order, _keys, put) {
    let o = 0;
    for (const i of order) {
      const st = blob[o]!;
      if (st === 0x2d /* - */) { o += 1; put(i, null); continue; }
      const len = blob.readUInt16BE(o + 1);
      put(i, decodePolicy(st, len === 0 ? '' : blob.toString('latin1', o + 3, o + 3 + len)));
      o += 3 + len;
    }
  },
  fromValue: (_key, v) => decodePolicyValue(v),
};
