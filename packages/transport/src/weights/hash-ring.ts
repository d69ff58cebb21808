/**
 * sha256 off the receiving thread, with no received buffer ever shared: the receiving thread
 * copies each landed piece of a tensor into one slot of a small fixed ring of shared memory
 * (RING_SLOTS x SLOT_BYTES, allocated once per process) and a worker thread hashes the slot and
 * hands it back. The worker sees only the ring, so nothing a transfer received is kept alive by
 * it (an earlier version shared the tensors' own buffers with the worker, which held every
 * version's memory until its own garbage collection ran). Received bytes stay in their tensor
 * buffers, so when the ring is full the copies simply lag the socket and catch up; receiving never
 * waits for hashing. One worker per process, shared by every transfer, keeping the process alive
 * only while a transfer waits for its digests.
 */
import { createHash, type Hash } from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';

export const SLOT_BYTES = 4 << 20;
export const RING_SLOTS = 8;

type ToWorker =
  | { kind: 'update'; job: number; k: number; slot: number; len: number }
  | { kind: 'end'; job: number; k: number }
  | { kind: 'drop'; job: number };
type FromWorker =
  | { kind: 'free'; slot: number }
  | { kind: 'digest'; job: number; k: number; hex: string }
  | { kind: 'error'; job: number; message: string };

const ROLE = 'acereason-hash-ring';

// Only in the worker started below (another worker thread importing this module is left alone).
if (!isMainThread && parentPort && (workerData as { role?: string } | null)?.role === ROLE) {
  const port = parentPort;
  const ring = (workerData as { ring: SharedArrayBuffer }).ring;
  const hashes = new Map<string, Hash>();
  const dropped = new Set<number>();
  port.on('message', (m: ToWorker) => {
    try {
      if (m.kind === 'update') {
        if (!dropped.has(m.job)) {
          const key = `${m.job}:${m.k}`;
          let h = hashes.get(key);
          if (!h) hashes.set(key, (h = createHash('sha256')));
          h.update(new Uint8Array(ring, m.slot * SLOT_BYTES, m.len));
        }
        port.postMessage({ kind: 'free', slot: m.slot } satisfies FromWorker);
      } else if (m.kind === 'end') {
        const key = `${m.job}:${m.k}`;
        const hex = (hashes.get(key) ?? createHash('sha256')).digest('hex');
        hashes.delete(key);
        port.postMessage({ kind: 'digest', job: m.job, k: m.k, hex } satisfies FromWorker);
      } else {
        for (const key of [...hashes.keys()]) if (key.startsWith(`${m.job}:`)) hashes.delete(key);
      }
    } catch (err) {
      port.postMessage({ kind: 'error', job: m.kind === 'update' || m.kind === 'end' ? m.job : 0, message: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
      if (m.kind === 'update') port.postMessage({ kind: 'free', slot: m.slot } satisfies FromWorker);
    }
  });
}

/** Queued work, in order: bytes of tensor k still to be copied into a slot, or the end of tensor k. */
type Op = { job: HashJob; k: number; bytes: Uint8Array } | { job: HashJob; k: number; end: true };

class Ring {
  private readonly sab = new SharedArrayBuffer(RING_SLOTS * SLOT_BYTES);
  private readonly view = new Uint8Array(this.sab);
  private readonly free: number[] = [...Array(RING_SLOTS).keys()];
  private readonly ops: Op[] = [];
  private readonly jobs = new Map<number, HashJob>();
  private readonly worker: Worker;
  private waiting = 0;
  dead: Error | undefined;

  constructor(onDead: () => void) {
    this.worker = new Worker(new URL(import.meta.url), { workerData: { role: ROLE, ring: this.sab } });
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => {
      if (m.kind === 'free') {
        this.free.push(m.slot);
        this.pump();
      } else if (m.kind === 'digest') this.jobs.get(m.job)?.settle(m.k, m.hex);
      else this.jobs.get(m.job)?.fail(new AceReasonError(ErrorCodes.INTERNAL, `weights hash worker: ${m.message}`));
    });
    const die = (err: Error): void => {
      if (this.dead) return;
      this.dead = new AceReasonError(ErrorCodes.UNAVAILABLE, `weights hash worker stopped: ${err.message}`, { cause: err });
      for (const j of this.jobs.values()) j.fail(this.dead);
      this.jobs.clear();
      this.ops.length = 0;
      onDead();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
  }

  add(job: HashJob): void {
    this.jobs.set(job.id, job);
  }

  /** A job settled or failed: no more messages for it. */
  remove(job: HashJob, drop: boolean): void {
    if (!this.jobs.delete(job.id)) return;
    if (drop) {
      for (let i = this.ops.length - 1; i >= 0; i--) if ((this.ops[i] as Op).job === job) this.ops.splice(i, 1);
      this.worker.postMessage({ kind: 'drop', job: job.id } satisfies ToWorker);
    }
  }

  push(op: Op): void {
    const last = this.ops[this.ops.length - 1];
    // A piece that continues the last queued one (the next bytes of the same buffer) extends it.
    if (last && 'bytes' in last && 'bytes' in op && last.job === op.job && last.k === op.k && last.bytes.buffer === op.bytes.buffer && last.bytes.byteOffset + last.bytes.byteLength === op.bytes.byteOffset) {
      this.ops[this.ops.length - 1] = { ...last, bytes: new Uint8Array(last.bytes.buffer, last.bytes.byteOffset, last.bytes.byteLength + op.bytes.byteLength) };
    } else this.ops.push(op);
    this.pump();
  }

  private pump(): void {
    while (this.ops.length > 0) {
      const op = this.ops[0] as Op;
      if ('end' in op) {
        this.worker.postMessage({ kind: 'end', job: op.job.id, k: op.k } satisfies ToWorker);
        this.ops.shift();
        continue;
      }
      // Whole slots only, unless the piece is followed by more work (its tensor ended): a message per
      // socket read (often 64 KiB) would cost more than the hashing saves.
      if (op.bytes.byteLength < SLOT_BYTES && this.ops.length === 1) return;
      const slot = this.free.pop();
      if (slot === undefined) return;
      const len = Math.min(SLOT_BYTES, op.bytes.byteLength);
      this.view.set(op.bytes.subarray(0, len), slot * SLOT_BYTES);
      this.worker.postMessage({ kind: 'update', job: op.job.id, k: op.k, slot, len } satisfies ToWorker);
      if (len === op.bytes.byteLength) this.ops.shift();
      else this.ops[0] = { ...op, bytes: op.bytes.subarray(len) };
    }
  }

  /** The worker keeps the process alive only while some transfer waits for digests. */
  hold(delta: number): void {
    this.waiting += delta;
    if (this.waiting > 0) this.worker.ref();
    else this.worker.unref();
  }
}

let ring: Ring | undefined;
let nextJob = 1;

function theRing(): Ring {
  if (ring && !ring.dead) return ring;
  const r = new Ring(() => {
    if (ring === r) ring = undefined;
  });
  ring = r;
  return r;
}

/**
 * The sha256 of tensors 0..n-1 of one transfer. Each tensor's bytes are passed in order, as views
 * of the memory they landed in, which must not change until `digests()` settles.
 */
export class HashJob {
  readonly id = nextJob++;
  private readonly ring = theRing();
  private readonly hex: Array<string | undefined>;
  private pending: number;
  private error: Error | undefined;
  private result: { resolve: (d: string[]) => void; reject: (e: Error) => void } | undefined;
  private ended = false;

  constructor(n: number) {
    this.hex = new Array<string | undefined>(n).fill(undefined);
    this.pending = n;
    if (this.ring.dead) throw this.ring.dead;
    this.ring.add(this);
  }

  update(k: number, bytes: Uint8Array): void {
    if (this.error || bytes.byteLength === 0) return;
    this.ring.push({ job: this, k, bytes });
  }

  /** Tensor k is complete. */
  end(k: number): void {
    if (!this.error) this.ring.push({ job: this, k, end: true });
  }

  /** Hex digests of all n tensors, once every tensor was ended. */
  digests(): Promise<string[]> {
    if (this.ended) return Promise.reject(new Error('HashJob.digests called twice'));
    this.ended = true;
    if (this.error) return Promise.reject(this.error);
    if (this.pending === 0) return Promise.resolve(this.hex as string[]);
    this.ring.hold(1);
    return new Promise<string[]>((resolve, reject) => (this.result = { resolve, reject })).finally(() => this.ring.hold(-1));
  }

  /** The transfer failed: nothing more is hashed for it. */
  abandon(): void {
    if (!this.error) this.error = new AceReasonError(ErrorCodes.CANCELLED, 'weights hash job abandoned');
    this.ring.remove(this, true);
  }

  /** (Ring) tensor k's digest. */
  settle(k: number, hex: string): void {
    if (this.hex[k] === undefined) this.pending--;
    this.hex[k] = hex;
    if (this.pending === 0) {
      this.ring.remove(this, false);
      this.result?.resolve(this.hex as string[]);
    }
  }

  /** (Ring) the worker failed this job. */
  fail(err: Error): void {
    if (this.error) return;
    this.error = err;
    this.ring.remove(this, true);
    this.result?.reject(err);
  }
}
