import { AppendLog } from '../../mirror/append-log.ts';

/**
 * The open segment file of the decision log (`seg-NNNNNN.dlog`): an append-log.ts log opened with
 * `preallocate`, so its records are written into space that was zero-filled ahead and a group
 * commit's fdatasync flushes data blocks only (append-log.ts "Preallocated files": the format, the
 * group commit, the recovery rule with zeros as the clean end, the zero tail cut at close). The
 * forwarding doors wait for this fdatasync before the message goes upstream (issue 15), so it is
 * on their p50.
 */
export type SegmentFile = AppendLog;

export const SegmentFile = {
  /**
   * Opens `path` (created when missing), replays every valid frame through `onRecord`, applies the
   * recovery rule of append-log.ts "Preallocated files".
   * @param opts.growBytes zero-filled space added at a time, bytes (default 1 MiB; rounded up to 4 KiB)
   * @throws GW_ERR_LOG_CORRUPT (file, byte offset) for damage with valid frames after it or a file
   *   without the magic; fs errors
   */
  open(path: string, opts: { onRecord: (payload: Buffer, offset: number) => void; warn?: ((m: string) => void) | undefined; growBytes?: number }): Promise<SegmentFile> {
    return AppendLog.open(path, {
      onRecord: opts.onRecord,
      ...(opts.warn ? { warn: opts.warn } : {}),
      preallocate: opts.growBytes === undefined ? {} : { growBytes: opts.growBytes },
    });
  },
};
