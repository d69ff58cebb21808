/**
 * Seeded prompt order: each epoch is a permutation of the dataset drawn from (seed, dataset, epoch),
 * and the cursor (epoch, position) is all the state, so a resumed run picks the same prompts.
 */
import { createHash } from 'node:crypto';

export interface Cursor {
  epoch: number;
  position: number;
}

function rng(seedText: string): () => number {
  const h = createHash('sha256').update(seedText).digest();
  let a = h.readUInt32LE(0), b = h.readUInt32LE(4), c = h.readUInt32LE(8), d = h.readUInt32LE(12);
  return () => {
    // xoshiro128**
    const r = Math.imul(Math.imul(b, 5) << 7 | Math.imul(b, 5) >>> 25, 9) >>> 0;
    const t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t;
    d = d << 11 | d >>> 21;
    return r / 4294967296;
  };
}

export function permutation(n: number, seedText: string): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  const r = rng(seedText);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j] as number, p[i] as number];
  }
  return p;
}

export class PromptSampler {
  private order: number[];
  constructor(private readonly size: number, private readonly seedText: string, public cursor: Cursor = { epoch: 0, position: 0 }) {
    this.order = permutation(size, `${seedText}:${cursor.epoch}`);
  }

  /** The next `n` prompt indices, advancing the cursor across epochs. `eligible` filters indices. */
  take(n: number, eligible: (index: number) => boolean = () => true): number[] {
    const out: number[] = [];
    let scanned = 0;
    while (out.length < n) {
      if (this.cursor.position >= this.size) {
        this.cursor = { epoch: this.cursor.epoch + 1, position: 0 };
        this.order = permutation(this.size, `${this.seedText}:${this.cursor.epoch}`);
      }
      const idx = this.order[this.cursor.position] as number;
      this.cursor = { ...this.cursor, position: this.cursor.position + 1 };
      if (eligible(idx)) out.push(idx);
      if (++scanned > this.size * 2 && out.length === 0) throw new Error('no eligible prompts left in the dataset');
    }
    return out;
  }
}
