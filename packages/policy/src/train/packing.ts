import { ValidationError } from '@acereason/protocol';

/**
 * Micro-batches by token budget: sequences are packed end to end into one row of at most
 * `budget` tokens (first-fit over lengths in decreasing order), so no compute goes to padding.
 * Attention stays inside each sequence (see `PackedRow`), and a single sequence of `budget`
 * tokens is a valid micro-batch. A sequence longer than the budget is refused before any work.
 */
export function packByTokens(lengths: readonly number[], budget: number, field = 'optimizer.microBatchTokens'): number[][] {
  const longest = Math.max(0, ...lengths);
  if (longest > budget) throw new ValidationError(field, `${budget} is smaller than one sequence (${longest} tokens); a micro-batch must hold the longest sequence`);
  const order = lengths.map((n, i) => [n, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const bins: { free: number; items: number[] }[] = [];
  for (const [n, i] of order) {
    const bin = bins.find((b) => b.free >= n);
    if (bin === undefined) bins.push({ free: budget - n, items: [i] });
    else {
      bin.free -= n;
      bin.items.push(i);
    }
  }
  return bins.map((b) => b.items.sort((x, y) => x - y));
}

/** One packed micro-batch: per token its id, rotary position, sequence start and next-token target. */
export interface PackedTokens {
  T: number;
  ids: Int32Array;
  positions: Int32Array;
  segStart: Int32Array;
  /** Next token of the same sequence (0 at each sequence's last token, whose loss weight is 0). */
  targets: Int32Array;
  /** Offset of each packed sequence in the row, in `items` order. */
  offsets: number[];
}

export function packTokens(seqs: readonly Uint32Array[]): PackedTokens {
  const T = seqs.reduce((a, s) => a + s.length, 0);
  const ids = new Int32Array(T);
  const positions = new Int32Array(T);
  const segStart = new Int32Array(T);
  const targets = new Int32Array(T);
  const offsets: number[] = [];
  let off = 0;
  for (const s of seqs) {
    offsets.push(off);
    ids.set(s, off);
    targets.set(s.subarray(1), off);
    for (let t = 0; t < s.length; t++) {
      positions[off + t] = t;
      segStart[off + t] = off;
    }
    off += s.length;
  }
  return { T, ids, positions, segStart, targets, offsets };
}
