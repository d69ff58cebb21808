import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AceReasonError, ErrorCodes, ValidationError } from '@acereason/protocol';
import { LruCache } from './cache.js';
import { verdict, type MathVerdict } from './types.js';
import { prepareCheck } from './verify.js';
import type { WorkerJob, WorkerReply } from './worker-protocol.js';

/** Consecutive workers that die before they are ready after which the pool gives up. */
const MAX_START_FAILURES = 5;

export interface MathVerifierPoolOptions {
  /** Worker threads (default: available cores, at most 8). Never grows beyond this. */
  workers?: number;
  /** Budget per answer; a worker over it is terminated and replaced, the result is `timeout`. */
  timeoutMs?: number;
  /** Verdicts kept, keyed by the normalised (prediction, gold) pair. 0 disables the cache. */
  cacheSize?: number;
  /** Requests waiting for a worker; beyond it `verify` rejects with a retryable UNAVAILABLE error. */
  maxQueue?: number;
  /** Accept "final answer is ..." / "Answer: ..." when there is no box (off for rewards). */
  fallbacks?: boolean;
  /** The dataset writes decimals with a comma (see the answer grammar); off by default. */
  decimalComma?: boolean;
  /** Use the symbolic backend in workers when the built-in comparison cannot decide (default true). */
  symbolic?: boolean;
  /** Heap limit per worker, so a runaway computation dies alone (default 256 MB). */
  maxHeapMb?: number;
  /**
   * Jobs posted ahead to each worker (default 8), to hide messaging latency. The time budget
   * still applies to each job alone: its clock starts when the job before it is answered.
   */
  pipeline?: number;
  /** The worker module; for tests and custom builds. */
  workerUrl?: URL;
}

export interface VerifyRequest {
  response: string;
  answer: string;
  /** The dataset's decimal-comma policy for this request; the pool's option when absent. */
  decimalComma?: boolean;
}

export interface PoolStats {
  workers: number;
  busy: number;
  queued: number;
  completed: number;
  timeouts: number;
  restarts: number;
  cacheHits: number;
  cacheMisses: number;
}

interface Pending {
  job: WorkerJob;
  key: string;
  resolve: (v: MathVerdict) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Jobs posted to this worker, oldest first; the head is the one being computed. */
  inflight: Pending[];
  timer: NodeJS.Timeout | null;
}

/**
 * Verifies math answers on a fixed set of worker threads. Extraction and normalisation run on the
 * caller's thread (linear time); comparison runs in a worker under a hard time budget enforced from
 * outside: a worker over budget is terminated and replaced. A full queue rejects instead of growing.
 */
export class MathVerifierPool implements AsyncDisposable {
  private readonly size: number;
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly fallbacks: boolean;
  private readonly decimalComma: boolean;
  private readonly symbolic: boolean;
  private readonly maxHeapMb: number;
  private readonly workerUrl: URL;
  private readonly pipeline: number;
  private readonly cache: LruCache<MathVerdict>;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextJob = 1;
  private closed = false;
  private completed = 0;
  private timeouts = 0;
  private restarts = 0;
  private startFailures = 0;

  constructor(options: MathVerifierPoolOptions = {}) {
    this.size = positiveInt(options.workers ?? Math.min(8, availableParallelism()), 'workers');
    this.timeoutMs = positiveInt(options.timeoutMs ?? 5000, 'timeoutMs');
    this.maxQueue = positiveInt(options.maxQueue ?? 100_000, 'maxQueue');
    const cacheSize = options.cacheSize ?? 100_000;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new ValidationError('cacheSize', 'must be an integer >= 0');
    this.cache = new LruCache(cacheSize);
    this.fallbacks = options.fallbacks ?? false;
    this.decimalComma = options.decimalComma ?? false;
    this.symbolic = options.symbolic ?? true;
    this.maxHeapMb = options.maxHeapMb ?? 256;
    this.workerUrl = options.workerUrl ?? new URL('./worker.js', import.meta.url);
    this.pipeline = positiveInt(options.pipeline ?? 8, 'pipeline');
    for (let k = 0; k < this.size; k++) this.slots.push(this.spawn());
  }

  /** Verifies one response against its gold answer. Resolves with a verdict; never hangs. */
  verify(req: VerifyRequest): Promise<MathVerdict> {
    if (this.closed) return Promise.reject(new AceReasonError(ErrorCodes.CANCELLED, 'verifier pool is closed'));
    if (typeof req?.response !== 'string') return Promise.reject(new ValidationError('response', 'must be a string'));
    if (typeof req.answer !== 'string') return Promise.reject(new ValidationError('answer', 'must be a string'));
    const prepared = prepareCheck(req.response, req.answer, { fallbacks: this.fallbacks, decimalComma: req.decimalComma ?? this.decimalComma });
    if (prepared.done !== null) return Promise.resolve(prepared.done);
    const { raw, pred, gold } = prepared;
    const key = `${pred}\u0000${gold}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return Promise.resolve({ ...hit, extracted: raw });
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(new AceReasonError(ErrorCodes.UNAVAILABLE, `verifier queue is full (${this.maxQueue})`, { retryable: true }));
    }
    return new Promise<MathVerdict>((resolve, reject) => {
      this.queue.push({ job: { job: this.nextJob++, raw, pred, gold, symbolic: this.symbolic }, key, resolve, reject });
      this.pump();
    });
  }

  stats(): PoolStats {
    return {
      workers: this.slots.length,
      busy: this.slots.filter((s) => s.inflight.length > 0).length,
      queued: this.queue.length,
      completed: this.completed,
      timeouts: this.timeouts,
      restarts: this.restarts,
      cacheHits: this.cache.hits,
      cacheMisses: this.cache.misses,
    };
  }

  /** Rejects waiting requests, fails running ones as cancelled, and terminates every worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const cancelled = new AceReasonError(ErrorCodes.CANCELLED, 'verifier pool closed');
    for (const p of this.queue.splice(0)) p.reject(cancelled);
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.timer !== null) clearTimeout(s.timer);
        for (const p of s.inflight.splice(0)) p.reject(cancelled);
        await s.worker.terminate();
      }),
    );
  }

  /** Fails every waiting and running request with `error` and shuts the pool down. */
  private fail(error: AceReasonError): void {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(error);
    for (const s of this.slots) {
      if (s.timer !== null) clearTimeout(s.timer);
      for (const p of s.inflight.splice(0)) p.reject(error);
      s.worker.removeAllListeners();
      s.worker.on('error', () => undefined);
      void s.worker.terminate();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private spawn(): Slot {
    // execArgv: [] -- the caller's flags (--input-type, --eval, --test ...) make no sense in a worker.
    const worker = new Worker(this.workerUrl, { execArgv: [], workerData: { symbolic: this.symbolic }, resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb } });
    const slot: Slot = { worker, ready: false, inflight: [], timer: null };
    worker.on('message', (m: WorkerReply) => this.onMessage(slot, m));
    worker.on('error', (e) => this.onCrash(slot, `worker failed: ${e.message}`));
    worker.on('exit', (code) => this.onCrash(slot, `worker exited with code ${code}`));
    return slot;
  }

  private onMessage(slot: Slot, m: WorkerReply): void {
    if ('ready' in m) {
      slot.ready = true;
      this.startFailures = 0;
      this.pump();
      return;
    }
    const p = slot.inflight[0];
    if (p === undefined || p.job.job !== m.job) return;
    slot.inflight.shift();
    this.completed++;
    const v = m.verdict;
    if (v.status === 'correct' || v.status === 'wrong') this.cache.set(p.key, v);
    p.resolve(v);
    this.arm(slot);
    this.pump();
  }

  private onCrash(slot: Slot, why: string): void {
    if (this.closed || !this.slots.includes(slot)) return;
    if (!slot.ready) {
      // A worker that dies before it is ready will die again: stop instead of respawning forever.
      this.startFailures++;
      if (this.startFailures >= MAX_START_FAILURES) {
        this.fail(new AceReasonError(ErrorCodes.INTERNAL, `verifier workers fail to start: ${why}`));
        return;
      }
    }
    const head = this.evict(slot);
    head?.resolve(verdict('error', head.job.raw, why));
    this.pump();
  }

  private onTimeout(slot: Slot): void {
    if (this.closed) return;
    this.timeouts++;
    const head = this.evict(slot);
    head?.resolve(verdict('timeout', head.job.raw, `no verdict within ${this.timeoutMs} ms; worker terminated`));
    this.pump();
  }

  /** Terminates a slot's worker and replaces it; returns the job it was computing, requeues the rest. */
  private evict(slot: Slot): Pending | undefined {
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = null;
    const [head, ...rest] = slot.inflight.splice(0);
    if (head !== undefined) this.completed++;
    this.queue.unshift(...rest);
    const i = this.slots.indexOf(slot);
    if (i >= 0) {
      slot.worker.removeAllListeners();
      slot.worker.on('error', () => undefined);
      void slot.worker.terminate();
      this.restarts++;
      this.slots[i] = this.spawn();
    }
    return head;
  }

  /** Starts the time budget of the slot's head job (or stops the clock when it is idle). */
  private arm(slot: Slot): void {
    if (slot.timer !== null) clearTimeout(slot.timer);
    slot.timer = slot.inflight.length === 0 ? null : setTimeout(() => this.onTimeout(slot), this.timeoutMs);
  }

  private pump(): void {
    if (this.closed) return;
    // Fill every ready worker one job at a time, round-robin, so work spreads evenly.
    for (let depth = 1; depth <= this.pipeline && this.queue.length > 0; depth++) {
      for (const slot of this.slots) {
        if (this.queue.length === 0) return;
        if (!slot.ready || slot.inflight.length >= depth) continue;
        const p = this.queue.shift();
        if (p === undefined) return;
        slot.inflight.push(p);
        if (slot.inflight.length === 1) this.arm(slot);
        slot.worker.postMessage(p.job);
      }
    }
  }
}

function positiveInt(v: number, field: string): number {
  if (!Number.isInteger(v) || v <= 0) throw new ValidationError(field, 'must be a positive integer');
  return v;
}
