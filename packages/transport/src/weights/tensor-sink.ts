/**
 * Receives a version's body (the tensors' raw bytes back to back, in manifest order) into one
 * buffer per tensor and hashes each tensor's bytes as they land, then checks every sha256 and the
 * version digest. A socket can read straight into `target()`; a stream of chunks goes through
 * `write()` (one copy).
 */
import { createHash, type Hash } from 'node:crypto';
import { IntegrityError, weightsDigest, type WeightManifest } from '@acereason/protocol';
import type { WeightSnapshot, WeightTensor } from '../grpc/weights.js';

const EMPTY = new Uint8Array(0);

export class TensorSink {
  private i = 0;
  private off = 0;
  private readonly hash: Hash[];
  private readonly buffers: Uint8Array[];
  received = 0;

  /** `onBytes` sees every chunk of the body in order once it is in its tensor's buffer (e.g. a host copy). */
  constructor(private readonly manifest: WeightManifest, reuse: WeightSnapshot | undefined, private readonly onBytes?: (chunk: Uint8Array) => void) {
    const spare = new Map((reuse?.tensors ?? []).map((t) => [t.name, t.data]));
    // Own ArrayBuffers (offset 0, so Float32 views need no copy); memory already in use is much
    // cheaper to write than fresh pages.
    this.buffers = manifest.tensors.map((t) => {
      const b = spare.get(t.name);
      return b && b.byteLength === t.byteLength ? b : new Uint8Array(t.byteLength);
    });
    this.hash = manifest.tensors.map(() => createHash('sha256'));
    this.skipFull();
  }

  get done(): boolean {
    return this.i >= this.buffers.length;
  }

  private skipFull(): void {
    while (this.i < this.buffers.length && this.off === (this.buffers[this.i] as Uint8Array).byteLength) {
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
    (this.hash[this.i] as Hash).update(landed);
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

  finish(): WeightSnapshot {
    const m = this.manifest;
    if (this.received !== m.totalBytes) throw new IntegrityError(`weights v${m.version}: got ${this.received} of ${m.totalBytes} bytes`);
    const tensors: WeightTensor[] = m.tensors.map((t, k) => {
      const got = (this.hash[k] as Hash).digest('hex');
      if (got !== t.sha256) throw new IntegrityError(`weights v${m.version}: tensor ${t.name} sha256 ${got} != manifest ${t.sha256}`);
      return { name: t.name, dtype: t.dtype, shape: t.shape, data: this.buffers[k] as Uint8Array };
    });
    const digest = weightsDigest(m.tensors);
    if (digest !== m.weightsSha256) throw new IntegrityError(`weights v${m.version}: digest ${digest} != announced ${m.weightsSha256}`);
    return { manifest: m, tensors };
  }
}
