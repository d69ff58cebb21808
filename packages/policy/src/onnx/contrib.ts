import type { Value } from './graph.js';
import type { Ops } from './ops.js';

/**
 * ONNX Runtime contrib ops (domain com.microsoft) used by the generation graphs only: they have no
 * gradient rule, so scoring and training graphs never contain them.
 */
const MS = 'com.microsoft';

/**
 * sum = x + skip, out = RMSNorm(sum) * w over the last axis, in one kernel
 * (SkipSimplifiedLayerNormalization; x and skip rank 2 or 3, w 1-D).
 */
export function skipRmsNorm(o: Ops, x: Value, skip: Value, w: Value, eps: number): { out: Value; sum: Value } {
  const spec = { type: x.type, shape: x.shape };
  // Outputs: output, mean and inv_std_var (omitted), input_skip_bias_sum.
  const [out, , , sum] = o.raw('SkipSimplifiedLayerNormalization', [x, skip, w], [spec, null, null, spec], { epsilon: { floatValue: eps } }, MS);
  if (out === undefined || sum === undefined) throw new Error('unreachable');
  return { out, sum };
}

/** Inputs of `rotary`: each token's own row of the cos/sin tables, indexed by its flat position b * T + t. */
export interface RotaryTables {
  /** int64 [B, T]: b * T + t. */
  pos: Value;
  /** [B * T, headDim / 2]: the first halves of the per-token cos/sin tables. */
  cos: Value;
  sin: Value;
}

/** The tables `rotary` reads, from the per-token cos/sin inputs [B, T, hd] (halves duplicated) and the ids [B, T]. */
export function rotaryTables(o: Ops, ids: Value, cos: Value, sin: Value, hd: number): RotaryTables {
  const half = hd / 2;
  const rows = (t: Value): Value => o.reshape(o.split(t, 2, [half, half])[0] as Value, [-1, half], ['BT', half]);
  const [n] = o.raw('Size', [ids], [{ type: 'int64', shape: [] }]);
  const zero = o.constTensor({ type: 'int64', dims: [], data: new BigInt64Array([0n]) });
  const one = o.constTensor({ type: 'int64', dims: [], data: new BigInt64Array([1n]) });
  const [flat] = o.raw('Range', [zero, n, one], [{ type: 'int64', shape: ['BT'] }]);
  if (flat === undefined) throw new Error('unreachable');
  return { pos: o.reshapeLike(flat, ids), cos: rows(cos), sin: rows(sin) };
}

/** x [B, T, heads, hd] rotated by position (RotaryEmbedding, non-interleaved halves as in HF). */
export function rotary(o: Ops, x: Value, t: RotaryTables): Value {
  const [B, T, heads, hd] = x.shape as [Value['shape'][0], Value['shape'][0], number, number];
  const flat = o.reshape(x, [0, 0, -1], [B, T, heads * hd]);
  const [y] = o.raw('RotaryEmbedding', [flat, t.pos, t.cos, t.sin], [{ type: x.type, shape: flat.shape }], { interleaved: 0, num_heads: heads }, MS);
  if (y === undefined) throw new Error('unreachable');
  return o.reshape(y, [0, 0, heads, hd], x.shape);
}
