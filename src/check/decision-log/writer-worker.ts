import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SegmentWriter, type SegmentWriterOptions, type WriterBatch } from './segment-writer.ts';

/**
 * The decision log's writer thread: hashes recipients, builds and chains blocks, appends and
 * fdatasyncs them, rotates, compresses and applies retention (segment-writer.ts), so none of that
 * runs on the request loop. Messages: `{t:'batch', id, …WriterBatch}` → `{t:'done', id}` once
 * durable, or `{t:'failed', id, message}`; `{t:'close'}` → `{t:'closed'}`.
 */
export const WORKER_KIND = 'iysgate-decision-writer';

type In = ({ t: 'batch'; id: number } & Omit<WriterBatch, 'records'> & { records: Uint8Array }) | { t: 'close' } | { t: 'rotate'; id: number };

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) {
  const port = parentPort!;
  const opts = (workerData as { opts: SegmentWriterOptions }).opts;
  const toBuf = (b: Buffer | Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const o: SegmentWriterOptions = {
    ...opts, hmacKeys: opts.hmacKeys.map((k) => ({ id: k.id, key: toBuf(k.key) })),
    encryption: opts.encryption ? { id: opts.encryption.id, key: toBuf(opts.encryption.key) } : undefined,
    warn: (msg) => port.postMessage({ t: 'warn', message: msg }),
  };
  const opening = SegmentWriter.open(o);
  opening.then((w) => port.postMessage({ t: 'opened', instanceId: w.instanceId, lastSeq: w.lastSeq }),
    (err: Error) => port.postMessage({ t: 'openFailed', message: err.message, code: (err as { code?: string }).code }));
  port.on('message', (m: In) => {
    void opening.then(async (w) => {
      if (m.t === 'batch') {
        try {
          await w.write({ ...m, records: toBuf(m.records) });
          port.postMessage({ t: 'done', id: m.id });
        } catch (err) {
          port.postMessage({ t: 'failed', id: m.id, message: (err as Error).message });
        }
      } else if (m.t === 'rotate') {
        await w.rotateNow();
        port.postMessage({ t: 'done', id: m.id });
      } else {
        await w.close();
        port.postMessage({ t: 'closed' });
      }
    }, () => { if (m.t === 'close') port.postMessage({ t: 'closed' }); });
  });
}
