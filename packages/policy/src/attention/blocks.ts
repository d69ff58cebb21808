import type { Value } from '../onnx/graph.js';
import { Ops } from '../onnx/ops.js';
import type { FloatType } from '../onnx/ops.js';
import { serializeModel } from '../onnx/serialize.js';

/**
 * The two kernels of blockwise (flash-style) causal attention, one query block against one key
 * block, in standard ONNX ops. A query block holds the rows of every query head of a key/value
 * group: q [KV, g * Bq, hd] (already scaled by 1/sqrt(hd)); keys and values are [KV, Bk, hd], so
 * grouped-query attention never repeats K/V. Which key a row may see comes from token indices,
 * never from a stored mask: per row (the g heads of a group repeat the block's tokens) the token
 * index `q_idx` and the first token of its sequence `q_lo` (sequences are packed into one row) and key index `k_idx`; key t is visible iff q_lo <= t <= q_idx. The only
 * mask that exists is the [Bq, Bk] one inside the block.
 */
export interface BlockShape {
  kvHeads: number;
  /** Query heads per key/value head. */
  group: number;
  headDim: number;
}

/** Score of a masked-out pair: finite, so a block with no visible key gives 0 weight, not NaN. */
const MASKED = -1e9;

interface BlockInputs {
  q: Value;
  k: Value;
  v: Value;
  qIdx: Value;
  qLo: Value;
  kIdx: Value;
}

function blockInputs(o: Ops, s: BlockShape): BlockInputs {
  return {
    q: o.input('q', [s.kvHeads, 'R', s.headDim]),
    k: o.input('k', [s.kvHeads, 'Bk', s.headDim]),
    v: o.input('v', [s.kvHeads, 'Bk', s.headDim]),
    qIdx: o.input('q_idx', ['R'], 'int32'),
    qLo: o.input('q_lo', ['R'], 'int32'),
    kIdx: o.input('k_idx', ['Bk'], 'int32'),
  };
}

/** Masked scores [KV, R, Bk] of one block pair (the index inputs are per row, repeated over the group). */
function maskedScores(o: Ops, b: BlockInputs): Value {
  const scores = o.matmul(b.q, o.transpose(b.k, [0, 2, 1]));
  const kI = o.unsqueeze(b.kIdx, [0]);
  const visible = o.and(o.lessOrEqual(kI, o.unsqueeze(b.qIdx, [1])), o.greaterOrEqual(kI, o.unsqueeze(b.qLo, [1])));
  return o.where(visible, scores, o.scalar(MASKED));
}

/**
 * Forward kernel: one step of the online softmax. Carries the running row max m, row sum l and
 * unnormalised output acc ([KV, R, 1], [KV, R, 1], [KV, R, hd]); the host starts them at -inf, 0,
 * 0 and finishes with o = acc / l and the per-row log-sum-exp lse = m + log(l).
 */
export function buildAttentionForwardBlock(s: BlockShape, ft: FloatType): Uint8Array {
  const o = new Ops('attn_fwd_block', ft);
  const b = blockInputs(o, s);
  const m = o.input('m', [s.kvHeads, 'R', 1]);
  const l = o.input('l', [s.kvHeads, 'R', 1]);
  const acc = o.input('acc', [s.kvHeads, 'R', s.headDim]);
  const scores = maskedScores(o, b);
  const mNew = o.max(m, o.reduceMax(scores, [-1], true));
  const p = o.exp(o.sub(scores, mNew));
  const alpha = o.exp(o.sub(m, mNew));
  o.output(mNew, 'm_out');
  o.output(o.add(o.mul(l, alpha), o.reduceSum(p, [-1], true)), 'l_out');
  o.output(o.add(o.mul(acc, alpha), o.matmul(p, b.v)), 'acc_out');
  return serializeModel(o.g);
}

/**
 * Backward kernel: recomputes the block's probabilities from the saved log-sum-exp and adds the
 * block's contributions to dq, dk and dv (`*_acc` in, `*_out` = acc + contribution, so the host
 * may fetch them into the very buffers it fed). `delta` is rowsum(dO * O) [KV, R, 1].
 */
export function buildAttentionBackwardBlock(s: BlockShape, ft: FloatType): Uint8Array {
  const o = new Ops('attn_bwd_block', ft);
  const b = blockInputs(o, s);
  const dOut = o.input('d_out', [s.kvHeads, 'R', s.headDim]);
  const lse = o.input('lse', [s.kvHeads, 'R', 1]);
  const delta = o.input('delta', [s.kvHeads, 'R', 1]);
  const dqAcc = o.input('dq_acc', [s.kvHeads, 'R', s.headDim]);
  const dkAcc = o.input('dk_acc', [s.kvHeads, 'Bk', s.headDim]);
  const dvAcc = o.input('dv_acc', [s.kvHeads, 'Bk', s.headDim]);
  const p = o.exp(o.sub(maskedScores(o, b), lse));
  const pT = o.transpose(p, [0, 2, 1]);
  const dP = o.matmul(dOut, o.transpose(b.v, [0, 2, 1]));
  const dS = o.mul(p, o.sub(dP, delta));
  o.output(o.add(dqAcc, o.matmul(dS, b.k)), 'dq_out');
  o.output(o.add(dkAcc, o.matmul(o.transpose(dS, [0, 2, 1]), b.q)), 'dk_out');
  o.output(o.add(dvAcc, o.matmul(pT, dOut)), 'dv_out');
  return serializeModel(o.g);
}
