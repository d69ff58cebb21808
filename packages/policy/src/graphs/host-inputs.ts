import type { ResolvedModelConfig } from '../model/config.js';
import { ropeInvFreq } from '../model/rope.js';
import { i32 } from '../runtime/session.js';
import type { Feeds } from '../runtime/session.js';

/** Large negative used for masked attention logits (finite, so fully padded rows stay NaN-free). */
export const MASKED = -1e9;

// Inverse frequencies (with the model's rope scaling) belong to the model definition.
export { ropeInvFreq } from '../model/rope.js';

/** cos/sin tables [rows, headDim] for the given positions (flattened [B*T]). */
export function ropeTables(c: ResolvedModelConfig, positions: ArrayLike<number>, inv: Float64Array = ropeInvFreq(c)): { cos: Float32Array; sin: Float32Array } {
  const hd = c.headDim;
  const half = hd / 2;
  const cos = new Float32Array(positions.length * hd);
  const sin = new Float32Array(positions.length * hd);
  for (let r = 0; r < positions.length; r++) {
    const pos = positions[r] ?? 0;
    for (let i = 0; i < half; i++) {
      const a = pos * (inv[i] ?? 0);
      const cs = Math.cos(a);
      const sn = Math.sin(a);
      cos[r * hd + i] = cs;
      cos[r * hd + half + i] = cs;
      sin[r * hd + i] = sn;
      sin[r * hd + half + i] = sn;
    }
  }
  return { cos, sin };
}

/**
 * Causal + padding mask [B, 1, 1, T, T] for right-padded full sequences: query i of row b may see
 * key j iff j <= i and j < lengths[b].
 */
export function causalMask(lengths: readonly number[], T: number): Float32Array {
  const B = lengths.length;
  const m = new Float32Array(B * T * T).fill(MASKED);
  for (let b = 0; b < B; b++) {
    const len = lengths[b] ?? 0;
    for (let i = 0; i < T; i++) {
      const lim = Math.min(i, len - 1);
      for (let j = 0; j <= lim; j++) m[(b * T + i) * T + j] = 0;
      if (lim < 0) m[(b * T + i) * T] = 0;
    }
  }
  return m;
}

/**
 * The length inputs of the GroupQueryAttention generation graph (FusedOps.gqa): `seqlens_k`, per
 * row its tokens after the call minus 1, and `total_sequence_length`, the longest row's tokens
 * after the call.
 */
export function gqaLengths(seqlensK: ArrayLike<number>, total: number): Feeds {
  return { seqlens_k: i32(Int32Array.from(seqlensK), [seqlensK.length]), total_sequence_length: i32(Int32Array.from([total]), []) };
}
