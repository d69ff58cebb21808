import ort from 'onnxruntime-node';

/**
 * A host-owned KV cache: per layer one Float32Array laid out [B, kvHeads, C, hd], where C (the
 * capacity the decode graph attends over) grows with the generation. The backing memory is
 * allocated once for prompt + max new tokens (`reserve` slots); growing C re-lays the rows out in
 * place inside it, by at least 1.25x, so the copies add up to O(T) over a generation while C stays
 * close to the tokens actually held. Only a generation beyond `reserve` (the generator caps it by a
 * memory budget) reallocates. Each decode step writes only the new token's K/V into its slot, and
 * finished rows are compacted away in place.
 */
export class KvCache {
  private k: Float32Array[] = [];
  private v: Float32Array[] = [];
  /** Slots in use per row (all rows advance together). */
  used = 0;
  private reserved: number;

  constructor(private readonly layers: number, private rows: number, private readonly kvHeads: number, private readonly hd: number, private capacity: number, private readonly chunk: number, reserve = capacity) {
    this.reserved = Math.max(reserve, capacity);
    this.alloc();
  }

  get slots(): number {
    return this.capacity;
  }
  get batch(): number {
    return this.rows;
  }
  /** Slots per row the backing memory holds without reallocating. */
  get reservedSlots(): number {
    return this.reserved;
  }

  private alloc(): void {
    const n = this.rows * this.kvHeads * this.reserved * this.hd;
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

  /** Makes room for at least `need` slots (at least 1.25x, rounded up to the chunk size). */
  grow(need: number): void {
    if (need <= this.capacity) return;
    const oldC = this.capacity;
    const want = Math.ceil(Math.max(need, Math.ceil(1.25 * oldC)) / this.chunk) * this.chunk;
    const hd = this.hd;
    const R = this.rows * this.kvHeads;
    if (want <= this.reserved || need <= this.reserved) {
      // In place: rows move to their wider stride, last row first, so no row overwrites one not yet moved.
      const newC = Math.min(want, this.reserved);
      for (const buf of [...this.k, ...this.v]) for (let r = R - 1; r > 0; r--) buf.copyWithin(r * newC * hd, r * oldC * hd, (r * oldC + this.used) * hd);
      this.capacity = newC;
      return;
    }
    const [ok, ov] = [this.k, this.v];
    this.capacity = Math.ceil(Math.max(need, 2 * oldC) / this.chunk) * this.chunk;
    this.reserved = this.capacity;
    this.alloc();
    for (let l = 0; l < this.layers; l++) {
      for (const [src, dst] of [[ok[l], this.k[l]], [ov[l], this.v[l]]] as const) {
        if (src === undefined || dst === undefined) throw new Error('missing layer');
        for (let r = 0; r < R; r++) dst.set(src.subarray(r * oldC * hd, (r * oldC + this.used) * hd), r * this.capacity * hd);
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
