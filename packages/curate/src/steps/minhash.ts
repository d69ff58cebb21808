/**
 * MinHash signatures and LSH banding. Each "permutation" is a seeded 32-bit mixer (murmur3's
 * finaliser) over the shingle's hash, which behaves like an independent hash per row.
 */
import { hash32 } from '../text.js';

export interface MinHashOptions {
  /** Signature length (bands * rows). */
  numPerm: number;
  bands: number;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function minhashSignature(shingleSet: ReadonlySet<string>, numPerm: number): Uint32Array {
  const sig = new Uint32Array(numPerm).fill(0xffffffff);
  for (const s of shingleSet) {
    const base = hash32(s);
    for (let i = 0; i < numPerm; i++) {
      const v = fmix32(base ^ Math.imul(i + 1, 0x9e3779b9));
      if (v < (sig[i] ?? 0)) sig[i] = v;
    }
  }
  return sig;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/** LSH index: items sharing any band bucket are candidates. */
export class LshIndex<T> {
  private readonly rows: number;
  private readonly buckets: Map<string, T[]>[];

  constructor(readonly options: MinHashOptions) {
    if (options.numPerm % options.bands !== 0) throw new RangeError('numPerm must be a multiple of bands');
    this.rows = options.numPerm / options.bands;
    this.buckets = Array.from({ length: options.bands }, () => new Map<string, T[]>());
  }

  private keys(sig: Uint32Array): string[] {
    const out: string[] = [];
    for (let b = 0; b < this.options.bands; b++) out.push(Array.from(sig.subarray(b * this.rows, (b + 1) * this.rows)).join(','));
    return out;
  }

  candidates(sig: Uint32Array): Set<T> {
    const out = new Set<T>();
    this.keys(sig).forEach((k, b) => {
      for (const item of this.buckets[b]?.get(k) ?? []) out.add(item);
    });
    return out;
  }

  add(sig: Uint32Array, item: T): void {
    this.keys(sig).forEach((k, b) => {
      const m = this.buckets[b];
      if (m === undefined) return;
      const list = m.get(k);
      if (list) list.push(item);
      else m.set(k, [item]);
    });
  }
}
