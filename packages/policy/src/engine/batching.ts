import type { ResolvedModelConfig } from '../model/config.js';
import type { Feeds } from '../runtime/session.js';
import { f32, i32 } from '../runtime/session.js';
import { causalMask, ropeInvFreq, ropeTables } from '../graphs/host-inputs.js';

/** Splits item indices into micro-batches whose padded size (rows x longest) fits `tokens`. */
export function packMicroBatches(lengths: readonly number[], tokens: number): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let longest = 0;
  lengths.forEach((len, i) => {
    const l2 = Math.max(longest, len);
    if (cur.length > 0 && (cur.length + 1) * l2 > tokens) {
      out.push(cur);
      cur = [];
      longest = 0;
    }
    cur.push(i);
    longest = Math.max(longest, len);
  });
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Feeds shared by scoring and training for right-padded full sequences (ids, next-token targets, rope, mask). */
export function sequenceFeeds(c: ResolvedModelConfig, seqs: readonly Uint32Array[], inv: Float64Array = ropeInvFreq(c)): { feeds: Feeds; B: number; T: number } {
  const B = seqs.length;
  const T = Math.max(1, ...seqs.map((s) => s.length));
  const ids = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const pos = new Int32Array(B * T);
  seqs.forEach((s, b) => {
    ids.set(s, b * T);
    targets.set(s.subarray(1), b * T);
    for (let t = 0; t < T; t++) pos[b * T + t] = t;
  });
  const rt = ropeTables(c, pos, inv);
  return {
    B,
    T,
    feeds: {
      ids: i32(ids, [B, T]),
      targets: i32(targets, [B, T]),
      cos: f32(rt.cos, [B, T, c.headDim]),
      sin: f32(rt.sin, [B, T, c.headDim]),
      mask: f32(causalMask(seqs.map((s) => s.length), T), [B, 1, 1, T, T]),
    },
  };
}
