/**
 * A fetch-through cache of decoded objects, least recently used first out, bounded by the bytes
 * of the objects it holds. Concurrent gets of one key share one fetch; a failed fetch is not
 * cached (the next get tries again). An object bigger than the whole bound is returned but not kept.
 */
export interface ObjectCacheOptions {
  /** Bytes the cache may hold (sum of what the loads report). */
  maxBytes: number;
}

/** Fetches and decodes one object on a miss, reporting the bytes it holds. */
export type ObjectLoader<T> = () => Promise<{ value: T; bytes: number }>;

export class ObjectCache<T> {
  private readonly entries = new Map<string, { value: T; bytes: number }>();
  private readonly loading = new Map<string, Promise<T>>();
  private held = 0;
  readonly counts = { hits: 0, misses: 0, evictions: 0 };

  constructor(private readonly o: ObjectCacheOptions) {
    if (!Number.isFinite(o.maxBytes) || o.maxBytes < 0) throw new RangeError(`maxBytes must be a finite number >= 0, got ${o.maxBytes}`);
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  async get(key: string, load: ObjectLoader<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      // Map order is insertion order: re-inserting makes it the most recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.counts.hits++;
      return hit.value;
    }
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    this.counts.misses++;
    const p = load().then(({ value, bytes }) => {
      this.keep(key, value, bytes);
      return value;
    }).finally(() => this.loading.delete(key));
    this.loading.set(key, p);
    return p;
  }

  private keep(key: string, value: T, bytes: number): void {
    if (bytes > this.o.maxBytes) return;
    this.entries.set(key, { value, bytes });
    this.held += bytes;
    for (const [k, e] of this.entries) {
      if (this.held <= this.o.maxBytes) break;
      this.entries.delete(k);
      this.held -= e.bytes;
      this.counts.evictions++;
    }
  }
}
