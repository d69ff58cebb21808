import { seededUniform } from '@acereason/protocol';

/** Seeded choices for the demo sets: the same seed gives the same tasks on every machine. */
export class DemoRng {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = seededUniform(seed);
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    const x = xs[Math.floor(this.next() * xs.length)];
    if (x === undefined) throw new RangeError('pick from an empty list');
    return x;
  }
}
