import ort from 'onnxruntime-node';

/**
 * A host-owned, fixed-capacity KV cache: per layer one Float32Array laid out [B, kvHeads, C, hd].
 * Each decode step writes only the new token's K/V into its slot (no O(T) copy per step); the
 * capacity grows in chunks, and finished rows are compacted away in place.
 */
export class KvCache {
  private k: Float32Array[] = [];
  private v: Float32Array[] = [];
  /** Slots in use per row (all rows advance together). */
  used = 0;

  constructor(private readonly layers: number, private rows: number, private readonly kvHeads: number, private readonly hd: number, private capacity: number, private readonly chunk: number) {
    this.alloc();
  }

  get slots(): number {
    return this.capacity;
  }
  get batch(): number {
    return this.rows;
  }

  private alloc(): void {
    const n = this.rows * this.kvHeads * this.capacity * this.hd;
    this.k = [...Array(this.layers)].map(() => new Float32Array(n));
    this.v = [...Array(this.layers)].map(() => new Float32Array(n));
  }

  /** Copies `t` new slots per row from tensors [rows, kvHeads, t, hd] into slots [used, used + t). */
  append(newK: readonly Float32Array[], newV: readonly Float32Array[], t: number): void {
    if (this.used + t > this.capacity) this.grow(this.used + t);
    const { hd, capacity: C } = this;
    for (let l = 0; l < this.layers; l++) {
      for (const [src, dst] of [[newK[l], this.k[l]], [newV[l], this.v[l]]] as const) {
        if (src === undefined || dst === undefined) throw new Error('missing layer');
        for (let r = 0; r < this.rows * this.kvHeads; r++) dst.set(src.subarray(r * t * hd, (r + 1) * t * hd), (r * C + this.used) * hd);
      }
    }
    this.used += t;
  }

  /** Makes room for at least `need` slots (rounded up to the chunk size). */
  grow(need: number): void {
    if (need <= this.capacity) return;
    const oldC = this.capacity;
    const [ok, ov] = [this.k, this.v];
    this.capacity = Math.ceil(need / this.chunk) * this.chunk;
    this.alloc();
    const hd = this.hd;
    for (let l = 0; l < this.layers; l++) {
      for (const [src, dst] of [[ok[l], this.k[l]], [ov[l], this.v[l]]] as const) {
        if (src === undefined || dst === undefined) throw new Error('missing layer');
        for (let r = 0; r < this.rows * this.kvHeads; r++) dst.set(src.subarray(r * oldC * hd, (r * oldC + this.used) * hd), r * this.capacity * hd);
      }
    }
  }

  /** Keeps only the given rows (ascending), in place. */
  keepRows(rows: readonly number[]): void {
    const per = this.kvHeads * this.capacity * this.hd;
    for (const buf of [...this.k, ...this.v]) rows.forEach((r, i) => { if (r !== i) buf.copyWithin(i * per, r * per, (r + 1) * per); });
    this.rows = rows.length;
  }

  /** The cache as decode-graph inputs [B, kv, 1, C, hd] (views, no copy). */
  feeds(into: Record<string, ort.Tensor>): void {
    const n = this.rows * this.kvHeads * this.capacity * this.hd;
    const dims = [this.rows, this.kvHeads, 1, this.capacity, this.hd];
    for (let l = 0; l < this.layers; l++) {
      into[`past_k_${l}`] = new ort.Tensor('float32', (this.k[l] as Float32Array).subarray(0, n), dims);
      into[`past_v_${l}`] = new ort.Tensor('float32', (this.v[l] as Float32Array).subarray(0, n), dims);
    }
  }
}
