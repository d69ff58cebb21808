import type { Value } from '../onnx/graph.js';
import type { Ops } from '../onnx/ops.js';
import type { ResolvedModelConfig } from './config.js';
import { layerPrefix } from './params.js';
import { groupQueryAttention, rotary, rotaryTables, skipRmsNorm } from '../onnx/contrib.js';
import type { GqaInputs, RotaryTables } from '../onnx/contrib.js';

/**
 * The model, defined once. Every graph (generation, scoring, training) calls `forward`; they differ
 * only in what they feed (full sequences or one new token plus a KV cache) and what they compute
 * from the logits.
 */
export interface ForwardInputs {
  /** Token ids, int32 [B, T]. */
  ids: Value;
  /** Rotary tables for each token's position, [B, T, headDim] (halves duplicated, HF layout). */
  cos: Value;
  sin: Value;
  /** Additive attention mask [B, 1, 1, T, Tk]: 0 where a query may attend, a large negative elsewhere (not with `gqa`). */
  mask?: Value;
  /**
   * Generation only: per layer cached keys/values [B, kvHeads, 1, C, headDim] in a fixed-capacity
   * buffer owned by the host. The new tokens attend to the C cached slots and to themselves; the
   * mask is then [B, 1, 1, T, C + T] and `splitSizes` holds [C, T]. The cache is never copied in
   * the graph: only the new tokens' K/V are returned, and the host writes them into its buffer.
   */
  past?: { k: Value; v: Value }[];
  splitSizes?: Value;
  /**
   * Generation graphs with FusedOps.gqa: attention is ONNX Runtime's GroupQueryAttention over a
   * cache `past` [B, kvHeads, C, headDim] whose rows hold their tokens from slot 0 (slot = position),
   * each row to its own length (see GqaInputs); no mask. `caches` then holds the kernel's present
   * caches (see groupQueryAttention).
   */
  gqa?: GqaInputs;
  /** int32 [B, 1, hiddenSize]: computes logits only at this position of each row (prefill/decode). */
  pick?: Value;
  /**
   * Use the packed parameters of generation graphs (see `packedParams`): one q/k/v matmul with the
   * attention scale folded into q, and one gate/up matmul, both pre-transposed.
   */
  packed?: boolean;
  /**
   * The table the token ids are looked up in, if not the embedding parameter (a graph input: see
   * buildGenerationGraph); the LM head is then one FusedMatMul (see lmHead).
   */
  embedTable?: Value;
  /** Generation graphs only: ONNX Runtime contrib kernels in place of the standard-op forms (see FusedOps). */
  fused?: FusedOps;
}

/**
 * Contrib kernels (no gradients; generation graphs only). `skipNorm`: each residual add and the
 * RMSNorm after it as one SkipSimplifiedLayerNormalization. `rotary`: RotaryEmbedding for q and k.
 */
export interface FusedOps {
  skipNorm?: boolean;
  rotary?: boolean;
  /** GroupQueryAttention with per-row cache lengths (generation graphs; see ForwardInputs.gqa). */
  gqa?: boolean;
}

export interface ForwardOutputs {
  logits: Value;
  /** Per layer keys/values of this call's tokens [B, kvHeads, T, headDim]. */
  present: { k: Value; v: Value }[];
  /** With `gqa`: per layer GroupQueryAttention's present cache (see groupQueryAttention). */
  caches?: { k: Value; v: Value }[];
}

export type ParamLookup = (name: string) => Value;

/** Written in the Pow/ReduceMean/Sqrt/Div form that ONNX Runtime fuses into one RMSNorm kernel. */
function rmsNorm(o: Ops, x: Value, w: Value, eps: number): Value {
  const ms = o.reduceMean(o.pow(x, o.scalar(2)), [-1], true);
  return o.mul(o.div(x, o.sqrt(o.add(ms, o.scalar(eps)))), w);
}

function linear(o: Ops, x: Value, w: Value, b?: Value): Value {
  const y = o.matmul(x, o.transpose(w, [1, 0]));
  return b === undefined ? y : o.add(y, b);
}

/** The constant [hd, hd] matrix R with x @ R = rotate_half(x) = concat(-x2, x1). */
function rotateHalfMatrix(o: Ops, hd: number): Value {
  const half = hd / 2;
  const data = o.ft === 'float64' ? new Float64Array(hd * hd) : new Float32Array(hd * hd);
  for (let j = 0; j < half; j++) {
    data[(j + half) * hd + j] = -1;
    data[j * hd + j + half] = 1;
  }
  return o.constTensor({ type: o.ft, dims: [hd, hd], data });
}

/** x [B, T, heads, hd] rotated by position: x*cos + rotate_half(x)*sin (rotate_half as one matmul). */
function rope(o: Ops, x: Value, r: RopeInputs): Value {
  if ('fused' in r) return rotary(o, x, r.fused);
  return o.add(o.mul(x, r.cos4), o.mul(o.matmul(x, r.rot), r.sin4));
}

/** sum = base + delta and RMSNorm(sum) * w, as one fused kernel or as the standard-op form. */
function residualNorm(o: Ops, base: Value, delta: Value, w: Value, eps: number, fused: boolean): { sum: Value; normed: Value } {
  if (fused) {
    const r = skipRmsNorm(o, base, delta, w, eps);
    return { sum: r.sum, normed: r.out };
  }
  const sum = o.add(base, delta);
  return { sum, normed: rmsNorm(o, sum, w, eps) };
}

/** Names of the packed generation-graph parameters of layer `pre`. */
export const packedNames = (pre: string): { qkvW: string; qkvB: string; gateUpW: string } => ({
  qkvW: `${pre}.self_attn.qkv_packed.weight_t`,
  qkvB: `${pre}.self_attn.qkv_packed.bias`,
  gateUpW: `${pre}.mlp.gate_up_packed.weight_t`,
});

/**
 * Shared per-graph constants of the attention block: rotary tables broadcast over heads and
 * rotate_half, or (`fused`) the tables of the RotaryEmbedding contrib op.
 */
export type RopeInputs = { cos4: Value; sin4: Value; rot: Value } | { fused: RotaryTables };

/** `ids` [B, T] given: the tables of the fused RotaryEmbedding form. */
export function ropeInputs(o: Ops, c: ResolvedModelConfig, cos: Value, sin: Value, ids?: Value): RopeInputs {
  if (ids !== undefined) return { fused: rotaryTables(o, ids, cos, sin, c.headDim) };
  return { cos4: o.unsqueeze(cos, [2]), sin4: o.unsqueeze(sin, [2]), rot: rotateHalfMatrix(o, c.headDim) };
}

/**
 * The first half of decoder layer `i`: input RMSNorm, q/k/v projections, the q/k norms (Qwen3)
 * and rotary embeddings.
 * Returns q [B, T, H, hd] (already multiplied by the attention scale), k and v [B, T, KV, hd].
 * `normed`: the input RMSNorm of `h`, when the caller already computed it (a fused residual norm).
 */
export function layerQkv(o: Ops, c: ResolvedModelConfig, p: ParamLookup, i: number, h: Value, r: RopeInputs, packed: boolean, normed?: Value): { q: Value; k: Value; v: Value } {
  const { numHeads: H, numKvHeads: KV, headDim: hd } = c;
  const B = h.shape[0] ?? 'B';
  const T = h.shape[1] ?? 'T';
  const pre = layerPrefix(i);
  const bias = (n: string): Value | undefined => (c.attentionBias ? p(`${pre}.self_attn.${n}.bias`) : undefined);
  const x = normed ?? rmsNorm(o, h, p(`${pre}.input_layernorm.weight`), c.rmsNormEps);
  const scale = o.scalar(1 / Math.sqrt(hd));
  // Qwen3: per-head RMSNorm of q and k (over headDim) before rotary.
  const qkNorm = (q0: Value, k0: Value): [Value, Value] =>
    c.qkNorm ? [rmsNorm(o, q0, p(`${pre}.self_attn.q_norm.weight`), c.rmsNormEps), rmsNorm(o, k0, p(`${pre}.self_attn.k_norm.weight`), c.rmsNormEps)] : [q0, k0];
  if (packed) {
    const names = packedNames(pre);
    let qkv = o.matmul(x, p(names.qkvW));
    if (c.attentionBias) qkv = o.add(qkv, p(names.qkvB));
    const heads = o.reshape(qkv, [0, 0, H + 2 * KV, hd], [B, T, H + 2 * KV, hd]);
    if (c.qkNorm) {
      // The norm undoes any scale folded into q_proj, so the attention scale is applied after it.
      const [q1, k1, v] = o.split(heads, 2, [H, KV, KV]) as [Value, Value, Value];
      const [qn, kn] = qkNorm(q1, k1);
      return { q: o.mul(rope(o, qn, r), scale), k: rope(o, kn, r), v };
    }
    const [qk, v] = o.split(heads, 2, [H + KV, KV]) as [Value, Value];
    const [q, k] = o.split(rope(o, qk, r), 2, [H, KV]) as [Value, Value];
    return { q, k, v };
  }
  const q0 = o.reshape(linear(o, x, p(`${pre}.self_attn.q_proj.weight`), bias('q_proj')), [0, 0, H, hd], [B, T, H, hd]);
  const k0 = o.reshape(linear(o, x, p(`${pre}.self_attn.k_proj.weight`), bias('k_proj')), [0, 0, KV, hd], [B, T, KV, hd]);
  const v = o.reshape(linear(o, x, p(`${pre}.self_attn.v_proj.weight`), bias('v_proj')), [0, 0, KV, hd], [B, T, KV, hd]);
  const [q, k] = qkNorm(q0, k0);
  return { q: o.mul(rope(o, q, r), scale), k: rope(o, k, r), v };
}

/**
 * The second half of decoder layer `i`: the output projection of the attention result `merged`
 * [B, T, H * hd] with its residual, then the post-attention RMSNorm and the SwiGLU MLP with its residual.
 */
export function layerOutput(o: Ops, c: ResolvedModelConfig, p: ParamLookup, i: number, h: Value, merged: Value, packed: boolean): Value {
  const { h1, delta } = layerOutputParts(o, c, p, i, h, merged, packed, false);
  return o.add(h1, delta);
}

/** `layerOutput` without its last residual add: the layer's output is h1 + delta. */
function layerOutputParts(o: Ops, c: ResolvedModelConfig, p: ParamLookup, i: number, h: Value, merged: Value, packed: boolean, fusedNorm: boolean): { h1: Value; delta: Value } {
  const pre = layerPrefix(i);
  const { sum: h1, normed: y } = residualNorm(o, h, linear(o, merged, p(`${pre}.self_attn.o_proj.weight`)), p(`${pre}.post_attention_layernorm.weight`), c.rmsNormEps, fusedNorm);
  let gate: Value;
  let up: Value;
  if (packed) {
    [gate, up] = o.split(o.matmul(y, p(packedNames(pre).gateUpW)), -1, [c.intermediateSize, c.intermediateSize]) as [Value, Value];
  } else {
    gate = linear(o, y, p(`${pre}.mlp.gate_proj.weight`));
    up = linear(o, y, p(`${pre}.mlp.up_proj.weight`));
  }
  return { h1, delta: linear(o, o.mul(o.mul(gate, o.sigmoid(gate)), up), p(`${pre}.mlp.down_proj.weight`)) };
}

/**
 * Final RMSNorm and the LM head (tied to the embedding when the model says so). `transB`: one
 * FusedMatMul reading the [vocab, hidden] matrix as it is (baked generation graphs: ONNX Runtime
 * packs it directly, where a Transpose would first be folded into a second vocabulary-sized copy).
 */
export function lmHead(o: Ops, c: ResolvedModelConfig, p: ParamLookup, h: Value, transB = false): Value {
  const x = rmsNorm(o, h, p('model.norm.weight'), c.rmsNormEps);
  const w = c.tieEmbeddings ? p('model.embed_tokens.weight') : p('lm_head.weight');
  if (!transB) return linear(o, x, w);
  const [y] = o.raw('FusedMatMul', [x, w], [{ type: x.type, shape: [...x.shape.slice(0, -1), c.vocabSize] }], { transB: 1 }, 'com.microsoft');
  if (y === undefined) throw new Error('unreachable');
  return y;
}

/**
 * Grouped-query attention without repeating K/V: queries grouped [B, KV, g, T, hd], the keys and
 * values broadcast over the group axis inside MatMul. Pushes this call's K/V [B, KV, T, hd] to
 * `present`; returns the result [B, KV, g, T, hd].
 */
function groupedAttention(o: Ops, c: ResolvedModelConfig, q: Value, k: Value, v0: Value, inp: ForwardInputs, i: number, present: { k: Value; v: Value }[]): Value {
  const { numHeads: H, numKvHeads: KV, headDim: hd } = c;
  const g = H / KV;
  const B = inp.ids.shape[0] ?? 'B';
  const T = inp.ids.shape[1] ?? 'T';
  if (inp.mask === undefined) throw new Error('mask is required without gqa');
  const mask = inp.mask;
  const q5 = o.transpose(o.reshape(q, [0, 0, KV, g, hd], [B, T, KV, g, hd]), [0, 2, 3, 1, 4]);
  const kT = o.transpose(k, [0, 2, 1, 3]);
  const vT = o.transpose(v0, [0, 2, 1, 3]);
  present.push({ k: kT, v: vT });
  // Keys/values as [B, KV, 1, Tk, hd] broadcast over the query group axis.
  const scoresWith = (keys5: Value): Value => o.matmul(q5, o.transpose(keys5, [0, 1, 2, 4, 3]));
  const k5 = o.unsqueeze(kT, [2]);
  const v5 = o.unsqueeze(vT, [2]);
  const past = inp.past?.[i];
  let attn: Value;
  if (past === undefined) {
    const probs = o.softmax(o.add(scoresWith(k5), mask), -1);
    attn = o.matmul(probs, v5);
  } else {
    if (inp.splitSizes === undefined) throw new Error('splitSizes is required with past');
    // The cache is fed already shaped [B, KV, 1, C, hd], so it is used in place (no unsqueeze copy).
    const probs = o.softmax(o.add(o.concat([scoresWith(past.k), scoresWith(k5)], -1), mask), -1);
    const [pPast, pNew] = o.splitDynamic(probs, -1, inp.splitSizes, 2) as [Value, Value];
    attn = o.add(o.matmul(pPast, past.v), o.matmul(pNew, v5));
  }
  return attn;
}

export function forward(o: Ops, c: ResolvedModelConfig, p: ParamLookup, inp: ForwardInputs): ForwardOutputs {
  const { numHeads: H, headDim: hd } = c;
  const B = inp.ids.shape[0] ?? 'B';
  const T = inp.ids.shape[1] ?? 'T';
  const r = ropeInputs(o, c, inp.cos, inp.sin, inp.fused?.rotary === true ? inp.ids : undefined);
  const packed = inp.packed === true;
  const fusedNorm = inp.fused?.skipNorm === true;
  let h = o.gather(inp.embedTable ?? p('model.embed_tokens.weight'), inp.ids, 0);
  // With fused norms a layer's last residual add waits for the next layer's input norm.
  let delta: Value | undefined;
  const present: { k: Value; v: Value }[] = [];
  const caches: { k: Value; v: Value }[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    let normed: Value | undefined;
    if (delta !== undefined) ({ sum: h, normed } = residualNorm(o, h, delta, p(`${layerPrefix(i)}.input_layernorm.weight`), c.rmsNormEps, true));
    const { q, k, v: v0 } = layerQkv(o, c, p, i, h, r, packed, normed);
    let merged: Value;
    if (inp.gqa !== undefined) {
      const past = inp.past?.[i];
      if (past === undefined) throw new Error('gqa needs a past per layer');
      const a = groupQueryAttention(o, q, k, v0, past, inp.gqa);
      present.push({ k: o.transpose(k, [0, 2, 1, 3]), v: o.transpose(v0, [0, 2, 1, 3]) });
      caches.push(a.present);
      merged = a.out;
    } else {
      const attn = groupedAttention(o, c, q, k, v0, inp, i, present);
      merged = o.reshape(o.transpose(attn, [0, 3, 1, 2, 4]), [0, 0, -1], [B, T, H * hd]);
    }
    if (fusedNorm) ({ h1: h, delta } = layerOutputParts(o, c, p, i, h, merged, packed, true));
    else h = layerOutput(o, c, p, i, h, merged, packed);
  }
  if (delta !== undefined) h = o.add(h, delta);
  if (inp.pick !== undefined) h = o.gatherElements(h, inp.pick, 1);
  return { logits: lmHead(o, c, p, h, inp.embedTable !== undefined), present, ...(inp.gqa !== undefined ? { caches } : {}) };
}
