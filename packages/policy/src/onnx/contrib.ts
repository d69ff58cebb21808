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

/** The per-call inputs of `groupQueryAttention` (see ForwardInputs.gqa). */
export interface GqaInputs {
  /** int32 [B]: per row, its tokens after this call minus 1 (cached + new - 1); a prefill's rows are right-padded prompts. */
  seqlensK: Value;
  /** int32 scalar: the longest row's tokens after this call. */
  total: Value;
}

/**
 * GroupQueryAttention over q [B, T, H, hd] (already scaled: the kernel's scale is 1), k and v
 * [B, T, KV, hd] after rotary, and a cache [B, KV, C, hd] in which row b holds its cached tokens
 * in slots [0, seqlens_k[b] + 1 - T) (the rest of the row is never read). Returns the attention
 * result [B, T, H * hd] and the present key/value [B, KV, max(C, total), hd]: the cache with the new
 * tokens at slots [seqlens_k[b] + 1 - T, seqlens_k[b] + 1) of each row (a prefill: the prompt at
 * [0, T)). ONNX Runtime's CPU kernel writes the present into the past buffer itself when the
 * caller binds each present output to its past input (in place, no copy of the cache), refuses
 * more than one new token per row with a past unless B = 1, and reads each row to its own length.
 */
export function groupQueryAttention(o: Ops, q: Value, k: Value, v: Value, past: { k: Value; v: Value }, inp: GqaInputs): { out: Value; present: { k: Value; v: Value } } {
  const [B, T, H, hd] = q.shape as [Value['shape'][0], Value['shape'][0], number, number];
  const KV = k.shape[2] as number;
  const flat = (x: Value, n: number): Value => o.reshape(x, [0, 0, n * hd], [B, T, n * hd]);
  const cache = { type: q.type, shape: [B, KV, 'P', hd] };
  const [out, pk, pv] = o.raw('GroupQueryAttention', [flat(q, H), flat(k, KV), flat(v, KV), past.k, past.v, inp.seqlensK, inp.total], [{ type: q.type, shape: [B, T, H * hd] }, cache, cache], { num_heads: H, kv_num_heads: KV, scale: { floatValue: 1 } }, MS);
  if (out === undefined || pk === undefined || pv === undefined) throw new Error('unreachable');
  return { out, present: { k: pk, v: pv } };
}
