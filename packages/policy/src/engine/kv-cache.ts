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
  /** Rows the backing memory holds (rows may be added up to it without reallocating). */
  private rowCap: number;

  constructor(private readonly layers: number, private rows: number, private readonly kvHeads: number, private readonly hd: number, private capacity: number, private readonly chunk: number, reserve = capacity) {
    this.reserved = Math.max(reserve, capacity);
    this.rowCap = rows;
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
    const n = this.rowCap * this.kvHeads * this.reserved * this.hd;
    this.k = [...Array(this.layers)].map(() => new Float32Array(n));
    this.v = [...Array(this.layers)].map(() => new Float32Array(n));
  }

  /** Copies `t` new slots per row from tensors [rows, kvHeads, t, hd] into slots [used, used + t). */
  append(newK: readonly Float32Array[], newV: readonly Float32Array[], t: number): void {
    if (this.used + t > this.capacity) this.grow(this.used + t);
    this.write(0, this.rows, newK, newV, t, this.used);
    this.used += t;
  }

  /** Copies tensors [n, kvHeads, t, hd] into rows [row, row + n), slots [at, at + t) (inside the capacity). */
  write(row: number, n: number, newK: readonly Float32Array[], newV: readonly Float32Array[], t: number, at: number): void {
    const { hd, capacity: C } = this;
    if (at + t > C || row + n > this.rows) throw new Error(`KV write outside the cache: rows ${row}+${n} of ${this.rows}, slots ${at}+${t} of ${C}`);
    for (let l = 0; l < this.layers; l++) {
      for (const [src, dst] of [[newK[l], this.k[l]], [newV[l], this.v[l]]] as const) {
        if (src === undefined || dst === undefined) throw new Error('missing layer');
        for (let r = 0; r < n * this.kvHeads; r++) dst.set(src.subarray(r * t * hd, (r + 1) * t * hd), ((row * this.kvHeads + r) * C + at) * hd);
      }
    }
  }

  /** Copies one new slot per row from tensors [rows, kvHeads, 1, hd] into slot `at[r]` of each row r (rows at their own lengths). */
  writeEach(at: ArrayLike<number>, newK: readonly Float32Array[], newV: readonly Float32Array[]): void {
    const { hd, capacity: C, kvHeads: KV } = this;
    for (let r = 0; r < this.rows; r++) if ((at[r] ?? C) >= C) throw new Error(`KV write outside the cache: row ${r} slot ${at[r]} of ${C}`);
    for (let l = 0; l < this.layers; l++) {
      for (const [src, dst] of [[newK[l], this.k[l]], [newV[l], this.v[l]]] as const) {
        if (src === undefined || dst === undefined) throw new Error('missing layer');
        for (let r = 0; r < this.rows; r++) for (let h = 0; h < KV; h++) dst.set(src.subarray((r * KV + h) * hd, (r * KV + h + 1) * hd), ((r * KV + h) * C + (at[r] as number)) * hd);
      }
    }
  }

  /** Takes `t` slots per row without writing them (a hole the rows' masks hide). */
  advance(t: number): void {
    this.grow(this.used + t);
    this.used += t;
  }

  /** Adds `n` rows after the others (their slots hold stale values until written). */
  addRows(n: number): void {
    if (this.rows + n > this.rowCap) {
      const [ok, ov] = [this.k, this.v];
      const keep = this.rows * this.kvHeads * this.capacity * this.hd;
      this.rowCap = Math.max(this.rows + n, Math.ceil(1.5 * this.rowCap));
      // No spare slots past the capacity now: a later growth reallocates (bounded memory for more rows).
      this.reserved = this.capacity;
      this.alloc();
      for (let l = 0; l < this.layers; l++) {
        (this.k[l] as Float32Array).set((ok[l] as Float32Array).subarray(0, keep));
        (this.v[l] as Float32Array).set((ov[l] as Float32Array).subarray(0, keep));
      }
    }
    this.rows += n;
  }

  /** Drops the first `m` slots of every row (no row may still see them): slots move down by m. */
  shift(m: number): void {
    if (m <= 0) return;
    if (m > this.used) throw new Error(`KV shift by ${m} past the ${this.used} slots used`);
    const { hd, capacity: C } = this;
    for (const buf of [...this.k, ...this.v]) for (let r = 0; r < this.rows * this.kvHeads; r++) buf.copyWithin(r * C * hd, (r * C + m) * hd, (r * C + this.used) * hd);
    this.used -= m;
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

  /** The cache as decode-graph inputs [B, kv, 1, C, hd] (`gqa`: [B, kv, C, hd], the GroupQueryAttention graph's) (views, no copy). */
  feeds(into: Record<string, ort.Tensor>, gqa = false): void {
    const n = this.rows * this.kvHeads * this.capacity * this.hd;
    const dims = gqa ? [this.rows, this.kvHeads, this.capacity, this.hd] : [this.rows, this.kvHeads, 1, this.capacity, this.hd];
    for (let l = 0; l < this.layers; l++) {
      into[`past_k_${l}`] = new ort.Tensor('float32', (this.k[l] as Float32Array).subarray(0, n), dims);
      into[`past_v_${l}`] = new ort.Tensor('float32', (this.v[l] as Float32Array).subarray(0, n), dims);
    }
  }
}
