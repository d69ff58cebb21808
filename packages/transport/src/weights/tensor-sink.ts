/**
 * Receives a version's body (the tensors' raw bytes back to back, in manifest order) into one
 * buffer per tensor and hashes each tensor's bytes as they land, then checks every sha256 and the
 * version digest. A socket can read straight into `target()`; a stream of chunks goes through
 * `write()` (one copy). Versions of OFF_THREAD_HASH_BYTES or more are hashed by a worker thread
 * (see hash-ring.ts) while the socket reads on; smaller ones on this thread.
 */
import { createHash, type Hash } from 'node:crypto';
import { IntegrityError, weightsDigest, type WeightManifest } from '@acereason/protocol';
import type { WeightSnapshot, WeightTensor } from '../grpc/weights.js';
import { HashJob } from './hash-ring.js';

const EMPTY = new Uint8Array(0);
/** Versions from this size on are hashed off the receiving thread (below it a worker round trip is not worth it). */
export const OFF_THREAD_HASH_BYTES = 32 << 20;

export interface TensorSinkOptions {
  /** Sees every chunk of the body in order once it is in its tensor's buffer (e.g. a host copy). */
  onBytes?: (chunk: Uint8Array) => void;
  /** Hash in the worker thread: default when the version has OFF_THREAD_HASH_BYTES or more. */
  offThreadHash?: boolean;
}

export class TensorSink {
  private i = 0;
  private off = 0;
  /** Hashed here (one per tensor), or by the worker thread. */
  private readonly hash: Hash[] | undefined;
  private readonly job: HashJob | undefined;
  private readonly buffers: Uint8Array[];
  private readonly onBytes: ((chunk: Uint8Array) => void) | undefined;
  received = 0;

  constructor(private readonly manifest: WeightManifest, reuse: WeightSnapshot | undefined, opts: TensorSinkOptions = {}) {
    this.onBytes = opts.onBytes;
    const spare = new Map((reuse?.tensors ?? []).map((t) => [t.name, t.data]));
    // Own ArrayBuffers (offset 0, so Float32 views need no copy); memory already in use is much
    // cheaper to write than fresh pages.
    this.buffers = manifest.tensors.map((t) => {
      const b = spare.get(t.name);
      return b && b.byteLength === t.byteLength ? b : new Uint8Array(t.byteLength);
    });
    if (opts.offThreadHash ?? manifest.totalBytes >= OFF_THREAD_HASH_BYTES) this.job = new HashJob(manifest.tensors.length);
    else this.hash = manifest.tensors.map(() => createHash('sha256'));
    this.skipFull();
  }

  get done(): boolean {
    return this.i >= this.buffers.length;
  }

  private skipFull(): void {
    while (this.i < this.buffers.length && this.off === (this.buffers[this.i] as Uint8Array).byteLength) {
      this.job?.end(this.i);
      this.i++;
      this.off = 0;
    }
  }

  /** Where the next bytes go: the rest of the current tensor (empty when the body is complete). */
  target(): Uint8Array {
    const buf = this.buffers[this.i];
    return buf ? buf.subarray(this.off) : EMPTY;
  }

  /** `n` bytes were written at the start of `target()`. */
  advance(n: number): void {
    const buf = this.buffers[this.i];
    if (!buf || this.off + n > buf.byteLength) throw new IntegrityError(`weights v${this.manifest.version}: the body is longer than the manifest's ${this.manifest.totalBytes} bytes`);
    const landed = buf.subarray(this.off, this.off + n);
    if (this.job) this.job.update(this.i, landed);
    else (this.hash?.[this.i] as Hash).update(landed);
    this.onBytes?.(landed);
    this.off += n;
    this.received += n;
    this.skipFull();
  }

  /** Copies a chunk in (it may span tensors). */
  write(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.byteLength) {
      const t = this.target();
      if (t.byteLength === 0) throw new IntegrityError(`weights v${this.manifest.version}: the body is longer than the manifest's ${this.manifest.totalBytes} bytes`);
      const n = Math.min(t.byteLength, chunk.byteLength - pos);
      t.set(chunk.subarray(pos, pos + n));
      this.advance(n);
      pos += n;
    }
  }

  /** The transfer failed: the worker stops hashing for it. */
  abandon(): void {
    this.job?.abandon();
  }

  /** Every tensor's sha256 and the digest checked: the snapshot, or an IntegrityError. */
  async finish(): Promise<WeightSnapshot> {
    const m = this.manifest;
    if (this.received !== m.totalBytes) {
      this.abandon();
      throw new IntegrityError(`weights v${m.version}: got ${this.received} of ${m.totalBytes} bytes`);
    }
    const got = this.job ? await this.job.digests() : (this.hash as Hash[]).map((h) => h.digest('hex'));
    const tensors: WeightTensor[] = m.tensors.map((t, k) => {
      if (got[k] !== t.sha256) throw new IntegrityError(`weights v${m.version}: tensor ${t.name} sha256 ${got[k]} != manifest ${t.sha256}`);
      return { name: t.name, dtype: t.dtype, shape: t.shape, data: this.buffers[k] as Uint8Array };
    });
    const digest = weightsDigest(m.tensors);
    if (digest !== m.weightsSha256) throw new IntegrityError(`weights v${m.version}: digest ${digest} != announced ${m.weightsSha256}`);
    return { manifest: m, tensors };
  }
}
