import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gatewayError } from '../errors.ts';
import { readStateFileSync, writeStateFileSync } from '../mirror/append-log.ts';
import { unavailable, withTimeout, type RedisClient } from '../mirror/redis-connection.ts';
import type { FastifyBaseLogger } from 'fastify';
import type { ConsentStore } from '../mirror/consent-store.ts';
import type { IysClient } from './client.ts';
import { fileUploadProgress, runUpload, type UploadChunk, type UploadLine, type UploadPlan, type UploadProgress, type UploadSummary } from './bulk-upload.ts';
import type { FleetKeys } from './fleet-keys.ts';
import { FencedError } from './outbox-store.ts';

/** An upload job (`POST /v1/iys/uploads`): what `GET /v1/iys/uploads/<id>` answers. */
export interface UploadJob {
  id: string;
  brandCode: number;
  state: 'running' | 'done' | 'failed';
  /** ISO 8601 UTC. */
  createdAt: string;
  progress: { validated: number; sent: number; confirmed: number; total: number };
  summary?: UploadSummary;
  error?: string;
  /** The instance that last ran the job (a fleet: the İYS leader; absent on one gateway). */
  instanceId?: string;
  /** Times another process or instance took the job up after the one running it stopped (died, lost the lease). */
  resumed?: number;
}

/**
 * Where upload jobs live: their record, their input (the CSV as received), their progress
 * (bulk-upload.ts UploadProgress) and their per-line report. Two twins with one contract
 * (test/iys/upload-jobs-contract.ts): {@link FileUploadJobs} in `<dataDir>/uploads` for one
 * gateway, {@link RedisUploadJobs} under the fleet's hash tag for a Redis fleet, so a job is found
 * from any instance and one whose instance died is resumed by the next İYS leader.
 */
export interface UploadJobStore {
  readonly kind: 'file' | 'redis';
  /**
   * Stores the input (read to its end) and then the job record, both durable before it resolves.
   * @throws GW_ERR_BODY_TOO_LARGE past the store's bound (Redis: `redis.uploadMaxBytes`; nothing kept);
   *   GW_ERR_STORE_UNAVAILABLE
   */
  create(job: UploadJob, input: AsyncIterable<Buffer | string>): Promise<void>;
  get(id: string): Promise<UploadJob | null>;
  /** Jobs, newest first (at most 1,000). */
  list(): Promise<UploadJob[]>;
  /** Ids of jobs in state `running` (to run or resume). */
  running(): Promise<string[]>;
  /** The input as it was received. */
  input(id: string): Readable;
  /** The job's progress store; writes fenced by `token` in a fleet (FencedError once it is refused). */
  progress(id: string, brandCode: number, token: () => string | null): UploadProgress;
  /** Writes the job record (fenced like progress); a job leaving `running` drops its input and plan. */
  update(job: UploadJob, token: () => string | null): Promise<void>;
  hasReport(id: string): Promise<boolean>;
  /** The per-line report (CSV), or null before it exists. */
  report(id: string): Promise<Readable | null>;
  close(): Promise<void>;
}

/** One gateway's jobs: `<dir>/<id>.csv`, `.job.json` (append-log.ts state file), `.state.json`, `.report.csv`. */
export class FileUploadJobs implements UploadJobStore {
  readonly kind = 'file' as const;
  readonly #dir: string;
  readonly #jobs = new Map<string, UploadJob>();

  /** @param dir the jobs directory (`<dataDir>/uploads`); read at construction, created at the first job */
  constructor(dir: string) {
    this.#dir = dir;
    if (existsSync(dir)) {
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.job.json'))) {
        // a damaged job file refuses the start (GW_ERR_LOG_CORRUPT)
        const j = readStateFileSync<UploadJob>(join(dir, f))!;
        this.#jobs.set(j.id, j);
      }
    }
  }

  async create(job: UploadJob, input: AsyncIterable<Buffer | string>): Promise<void> {
    mkdirSync(this.#dir, { recursive: true });
    await pipeline(input, createWriteStream(join(this.#dir, `${job.id}.csv`)));
    this.#jobs.set(job.id, job);
    writeStateFileSync(join(this.#dir, `${job.id}.job.json`), job);
  }

  async get(id: string): Promise<UploadJob | null> { return this.#jobs.get(id) ?? null; }

  async list(): Promise<UploadJob[]> {
    return [...this.#jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, 1000);
  }

  async running(): Promise<string[]> { return [...this.#jobs.values()].filter((j) => j.state === 'running').map((j) => j.id); }

  input(id: string): Readable { return createReadStream(join(this.#dir, `${id}.csv`)); }

  progress(id: string, brandCode: number): UploadProgress {
    return fileUploadProgress(join(this.#dir, `${id}.state.json`), join(this.#dir, `${id}.report.csv`), brandCode);
  }

  async update(job: UploadJob): Promise<void> {
    this.#jobs.set(job.id, job);
    writeStateFileSync(join(this.#dir, `${job.id}.job.json`), job);
  }

  async hasReport(id: string): Promise<boolean> { return existsSync(join(this.#dir, `${id}.report.csv`)); }

  async report(id: string): Promise<Readable | null> {
    const path = join(this.#dir, `${id}.report.csv`);
    return existsSync(path) ? createReadStream(path) : null;
  }

  async close(): Promise<void> {}
}

/**
 * Fenced multi-command write. KEYS[1]: lease; KEYS[2..]: the keys the commands name by index.
 * ARGV[1]: the lease value this instance holds ('' = unfenced: a job's creation); ARGV[2]: JSON
 * array of commands `[name, keyIndex, arg...]` (strings; keyIndex 1 = KEYS[2], the first key after the lease). Returns -1 when the lease is not ARGV[1].
 */
const WRITE_LUA = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
for _, op in ipairs(cjson.decode(ARGV[2])) do
  local cmd = table.remove(op, 1)
  local k = KEYS[tonumber(table.remove(op, 1)) + 1]
  redis.call(cmd, k, unpack(op))
end
return 1
`;

type Op = [string, number, ...string[]];

export interface RedisUploadJobsOptions {
  client: RedisClient;
  keys: FleetKeys;
  /** Most bytes of one job's input held in Redis (config `redis.uploadMaxBytes`). */
  maxInputBytes: number;
  /** Bound of one Redis call in ms (default 5,000: a piece is up to 1 MiB). */
  timeoutMs?: number;
  /** A job that left `running` keeps its record and report this long (ms; default 30 days). */
  keepDoneMs?: number;
}

/** Bytes of one stored piece of an input or a report (a list element). */
const PIECE_BYTES = 1024 * 1024;

/**
 * A fleet's jobs in Redis, every key under the fleet's hash tag (fleet-keys.ts `upl`), so the
 * fenced scripts (the lease checked, then the job's keys written) run in one Cluster slot:
 * - `upl:jobs` zset id → createdAt ms (newest first in `list`), `upl:running` zset of running jobs;
 * - `upl:<id>:job` the record (JSON); `upl:<id>:in` list of the input's pieces (≤ 1 MiB each);
 * - `upl:<id>:plan` hash `plan` → UploadPlan, `c<i>` → chunk (its consents: the state a resumed
 *   job needs, without the input); `upl:<id>:res` hash line → UploadLine; `upl:<id>:report` list
 *   of the report's pieces.
 * The input is written before the record (a creation cut short leaves pieces with a one-hour TTL,
 * no job); a job leaving `running` drops its input, plan and results, and its record and report
 * expire after `keepDoneMs`. Only the İYS leader runs jobs; every write it makes is fenced by the
 * lease (a former leader resumed after its lease writes nothing).
 */
export class RedisUploadJobs implements UploadJobStore {
  readonly kind = 'redis' as const;
  readonly #c: RedisClient;
  readonly #k: FleetKeys;
  readonly #max: number;
  readonly #ms: number;
  readonly #keepMs: number;

  constructor(opts: RedisUploadJobsOptions) {
    this.#c = opts.client;
    this.#k = opts.keys;
    this.#max = opts.maxInputBytes;
    this.#ms = opts.timeoutMs ?? 5000;
    this.#keepMs = opts.keepDoneMs ?? 30 * 86_400_000;
    this.#c.defineCommand('iysUploadWrite', { lua: WRITE_LUA });
  }

  #key(id: string, part: 'job' | 'in' | 'plan' | 'res' | 'report'): string { return `${this.#k.uploads}${id}:${part}`; }

  async #call<T>(p: Promise<T>, what: string): Promise<T> {
    return withTimeout(p, this.#ms, what).catch((err: unknown) => { throw unavailable(what, err); });
  }

  /** Runs `ops` on `keys` after the lease check (token '' = unfenced). @throws FencedError */
  async #write(token: string, keys: string[], ops: Op[], what: string): Promise<void> {
    const c = this.#c as unknown as { iysUploadWrite: (n: number, ...a: string[]) => Promise<number> };
    const r = await this.#call(c.iysUploadWrite(keys.length + 1, this.#k.lease, ...keys, token, JSON.stringify(ops)), what);
    if (r === -1) throw new FencedError(what);
  }

  #token(token: () => string | null, what: string): string {
    const t = token();
    if (t === null) throw new FencedError(what);
    return t;
  }

  async create(job: UploadJob, input: AsyncIterable<Buffer | string>): Promise<void> {
    const inKey = this.#key(job.id, 'in');
    let bytes = 0;
    let buf: Buffer[] = [];
    let held = 0;
    const flush = async () => {
      if (held === 0) return;
      const piece = Buffer.concat(buf);
      buf = []; held = 0;
      await this.#call(this.#c.multi().rpush(inKey, piece).pexpire(inKey, 3_600_000).exec(), 'upload input');
    };
    try {
      for await (const chunk of input) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        bytes += b.length;
        if (bytes > this.#max) throw gatewayError('GW_ERR_BODY_TOO_LARGE', [this.#max]);
        buf.push(b); held += b.length;
        if (held >= PIECE_BYTES) await flush();
      }
      await flush();
    } catch (err) {
      await this.#c.del(inKey).catch(() => {});
      throw err;
    }
    const at = String(Date.parse(job.createdAt));
    await this.#write('', [this.#key(job.id, 'job'), this.#k.uploadIndex, this.#k.uploadRunning, inKey], [
      ['SET', 1, JSON.stringify(job)], ['ZADD', 2, at, job.id], ...(job.state === 'running' ? [['ZADD', 3, at, job.id] as Op] : []), ['PERSIST', 4],
    ], 'upload job');
  }

  async get(id: string): Promise<UploadJob | null> {
    const v = await this.#call(this.#c.get(this.#key(id, 'job')), 'upload job');
    return v ? JSON.parse(v) as UploadJob : null;
  }

  async list(): Promise<UploadJob[]> {
    const ids = await this.#call(this.#c.zrevrange(this.#k.uploadIndex, 0, 999), 'upload jobs');
    if (ids.length === 0) return [];
    const vals = await this.#call(this.#c.mget(...ids.map((id) => this.#key(id, 'job'))), 'upload jobs');
    // a record past its retention leaves its id in the index: dropped here
    const gone = ids.filter((_id, i) => !vals[i]);
    if (gone.length) await this.#c.zrem(this.#k.uploadIndex, ...gone).catch(() => {});
    return vals.filter((v): v is string => !!v).map((v) => JSON.parse(v) as UploadJob);
  }

  async running(): Promise<string[]> { return this.#call(this.#c.zrange(this.#k.uploadRunning, 0, -1), 'upload jobs'); }

  input(id: string): Readable {
    const key = this.#key(id, 'in');
    const self = this;
    return Readable.from((async function* () {
      const n = await self.#call(self.#c.llen(key), 'upload input');
      for (let i = 0; i < n; i++) {
        const piece = await self.#call(self.#c.lindexBuffer(key, i), 'upload input');
        if (piece) yield piece;
      }
    })());
  }

  progress(id: string, brandCode: number, token: () => string | null): UploadProgress {
    const plan = this.#key(id, 'plan');
    const res = this.#key(id, 'res');
    const report = this.#key(id, 'report');
    const write = (ops: Op[], keys: string[], what: string) => this.#write(this.#token(token, what), keys, ops, what);
    return {
      load: async () => {
        const [h, r] = await this.#call(Promise.all([this.#c.hgetall(plan), this.#c.hvals(res)]), 'upload progress');
        const results = new Map<number, UploadLine>(r.map((v) => { const l = JSON.parse(v) as UploadLine; return [l.line, l]; }));
        if (!h.plan) return { plan: null, chunks: [], results };
        const p = JSON.parse(h.plan) as UploadPlan;
        const chunks: UploadChunk[] = [];
        for (let i = 0; i < p.chunkCount; i++) chunks.push(JSON.parse(h[`c${i}`]!) as UploadChunk);
        return { plan: p, chunks, results };
      },
      savePlan: async (p, chunks, invalid) => {
        // chunks in groups (a 1M-row plan is ~150 MB of consents): the plan field last, so a plan is whole once it reads
        for (let i = 0; i < chunks.length; i += 20) {
          const fields = chunks.slice(i, i + 20).flatMap((c, k) => [`c${i + k}`, JSON.stringify(c)]);
          await write([['HSET', 1, ...fields]], [plan], 'upload plan');
        }
        for (let i = 0; i < invalid.length; i += 1000) {
          await write([['HSET', 1, ...invalid.slice(i, i + 1000).flatMap((l) => [String(l.line), JSON.stringify(l)])]], [res], 'upload results');
        }
        await write([['HSET', 1, 'plan', JSON.stringify({ ...p, brandCode })]], [plan], 'upload plan');
      },
      saveChunk: async (i, chunk, results) => {
        const ops: Op[] = [['HSET', 1, `c${i}`, JSON.stringify(chunk)]];
        if (results.length) ops.push(['HSET', 2, ...results.flatMap((l) => [String(l.line), JSON.stringify(l)])]);
        await write(ops, [plan, res], 'upload progress');
      },
      saveReport: async (pieces) => {
        await write([['DEL', 1]], [report], 'upload report');
        for (const p of pieces) await write([['RPUSH', 1, p]], [report], 'upload report');
      },
    };
  }

  async update(job: UploadJob, token: () => string | null): Promise<void> {
    const t = this.#token(token, 'upload job');
    const keys = [this.#key(job.id, 'job'), this.#k.uploadRunning, this.#key(job.id, 'in'), this.#key(job.id, 'plan'), this.#key(job.id, 'res'), this.#key(job.id, 'report')];
    const ops: Op[] = [['SET', 1, JSON.stringify(job)]];
    if (job.state !== 'running') {
      const keep = String(this.#keepMs);
      ops.push(['ZREM', 2, job.id], ['DEL', 3], ['DEL', 4], ['DEL', 5], ['PEXPIRE', 1, keep], ['PEXPIRE', 6, keep]);
    }
    await this.#write(t, keys, ops, 'upload job');
  }

  async hasReport(id: string): Promise<boolean> {
    return (await this.#call(this.#c.exists(this.#key(id, 'report')), 'upload report')) === 1;
  }

  async report(id: string): Promise<Readable | null> {
    const key = this.#key(id, 'report');
    const n = await this.#call(this.#c.llen(key), 'upload report');
    if (n === 0) return null;
    const self = this;
    return Readable.from((async function* () {
      for (let i = 0; i < n; i++) {
        const piece = await self.#call(self.#c.lindexBuffer(key, i), 'upload report');
        if (piece) yield piece;
      }
    })());
  }

  async close(): Promise<void> {}
}

export interface UploadRunnerOptions {
  jobs: UploadJobStore;
  /** The İYS client jobs send with (a fleet: the lease-gated one). */
  client: IysClient;
  /** The mirror, for İYS's state rules at validation. */
  store: ConsentStore;
  log: FastifyBaseLogger;
  /** Wait between polls of a batch, ms (config `iys.batchPollAfterMs`). */
  pollEveryMs: number;
  /** This instance's id, recorded on the job it runs. */
  instanceId: string;
  /** The lease value fencing the job's writes (a fleet), else a constant. */
  token: () => string | null;
  /** Whether this instance may run jobs now (a fleet: the İYS leader), checked before each start. */
  canRun: () => boolean;
  now?: () => number;
}

/**
 * Runs upload jobs (bulk-upload.ts runUpload) from a {@link UploadJobStore}: a new job at once
 * where it may run, and every job still `running` when {@link resumeAll} is called (a restart;
 * in a fleet the leader's upload timer, so the next leader takes up the jobs of one that died).
 * A job whose write was refused by the fence (this instance lost the lease) stops here without
 * being marked failed: the next leader resumes it from its stored progress.
 */
export class UploadRunner {
  readonly #o: UploadRunnerOptions;
  readonly #active = new Map<string, Promise<void>>();
  /** Jobs this process took up after another process or instance had started them. */
  resumedHere = 0;

  constructor(opts: UploadRunnerOptions) { this.#o = opts; }

  /** Starts `id` here when allowed and not already running here. */
  kick(id: string): void {
    if (!this.#o.canRun() || this.#active.has(id)) return;
    const p = this.#run(id).finally(() => { this.#active.delete(id); });
    this.#active.set(id, p);
  }

  /** Starts every running job of the store not running here (when allowed). Never throws. */
  async resumeAll(): Promise<void> {
    if (!this.#o.canRun()) return;
    let ids: string[];
    try { ids = await this.#o.jobs.running(); } catch (err) { this.#o.log.warn({ err }, 'listing upload jobs failed; will retry'); return; }
    for (const id of ids) this.kick(id);
  }

  /** Waits for the jobs running here (tests, shutdown). */
  async idle(): Promise<void> { await Promise.allSettled([...this.#active.values()]); }

  async #run(id: string): Promise<void> {
    const o = this.#o;
    let j: UploadJob | null = null;
    try {
      j = await o.jobs.get(id);
      if (!j || j.state !== 'running') return;
      if (j.instanceId !== undefined && j.instanceId !== o.instanceId) { j.resumed = (j.resumed ?? 0) + 1; this.resumedHere++; }
      j.instanceId = o.instanceId;
      await o.jobs.update(j, o.token);
      if (j.resumed) o.log.info({ upload: id, resumed: j.resumed }, 'upload job resumed from its stored progress');
      const job = j;
      let savedAt = 0;
      const summary = await runUpload(() => o.jobs.input(id), o.jobs.progress(id, job.brandCode, o.token), {
        brandCode: job.brandCode, client: o.client, store: o.store, pollEveryMs: o.pollEveryMs, ...(o.now ? { now: o.now } : {}),
        onProgress: (p) => {
          // stored at every batch sent, else at most every 500 ms (validation, polls)
          const moved = p.sent !== job.progress.sent;
          job.progress = p;
          const t = Date.now();
          if (!moved && t - savedAt < 500) return;
          savedAt = t;
          void o.jobs.update({ ...job }, o.token).catch(() => {}); // a refused write stops the job at its next step
        },
      });
      job.state = 'done';
      job.summary = summary;
      await o.jobs.update(job, o.token);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'FENCED' || code === 'GW_ERR_STORE_UNAVAILABLE') {
        // not failed: its progress is stored; the leader's next upload tick takes it up again
        o.log.warn({ err, upload: id }, code === 'FENCED'
          ? 'upload job stopped here: this instance no longer leads İYS work; the next leader resumes it'
          : 'upload job paused: Redis did not answer; resumed at the next upload tick');
        return;
      }
      o.log.error({ err, upload: id }, 'upload job failed');
      if (!j) return;
      j.state = 'failed';
      j.error = (err as Error).message;
      await o.jobs.update(j, o.token).catch((e: unknown) => { o.log.warn({ err: e, upload: id }, 'recording the failed upload job failed'); });
    }
  }
}
