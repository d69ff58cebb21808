import type { Value } from '../onnx/graph.js';
import { Ops } from '../onnx/ops.js';
import type { FloatType } from '../onnx/ops.js';
import { backprop } from '../onnx/autodiff.js';
import { serializeModel, serializeModelExternal } from '../onnx/serialize.js';
import type { ExternalData } from '../onnx/serialize.js';
import type { ResolvedModelConfig } from '../model/config.js';
import { layerPrefix, paramSpecs } from '../model/params.js';
import type { NamedTensor } from '../model/params.js';
import { forward, packedNames } from '../model/transformer.js';
import type { FusedOps, ParamLookup } from '../model/transformer.js';
import { perTokenLoss, pgLossInputs, tokenLogprobs } from './heads.js';
import type { LossKind } from './heads.js';

export type { LossKind } from './heads.js';
export const gradName = (param: string): string => `grad.${param}`;

/** Parameters either become graph inputs (scoring/training: weights change every step) or are baked in (generation). */
function params(o: Ops, c: ResolvedModelConfig, baked?: readonly NamedTensor[]): { lookup: ParamLookup; values: Value[] } {
  const byName = new Map<string, Value>();
  const values: Value[] = [];
  const bakedMap = new Map((baked ?? []).map((t) => [t.name, t]));
  for (const s of paramSpecs(c)) {
    let v: Value;
    if (baked !== undefined) {
      const t = bakedMap.get(s.name);
      if (t === undefined) throw new Error(`weights lack ${s.name}`);
      v = o.constTensor({ type: 'float32', dims: s.shape, data: t.data }, s.name);
    } else v = o.input(s.name, s.shape);
    byName.set(s.name, v);
    values.push(v);
  }
  if (baked !== undefined) for (const t of packedParams(c, bakedMap)) byName.set(t.name, o.constTensor({ type: 'float32', dims: t.shape, data: t.data }, t.name));
  return {
    lookup: (name) => {
      const v = byName.get(name);
      if (v === undefined) throw new Error(`unknown parameter ${name}`);
      return v;
    },
    values,
  };
}

/** Transposes a row-major [rows, cols] matrix. */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c] as number;
  return out;
}

/** The packed generation-graph parameters (see `ForwardInputs.packed`), built from the HF tensors. */
function packedParams(c: ResolvedModelConfig, w: ReadonlyMap<string, NamedTensor>): NamedTensor[] {
  const get = (n: string): Float32Array => {
    const t = w.get(n);
    if (t === undefined) throw new Error(`weights lack ${n}`);
    return t.data;
  };
  const D = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  // With q_norm (Qwen3) the scale cannot be folded into q_proj: the graph applies it after the norm.
  const scale = c.qkNorm ? 1 : 1 / Math.sqrt(c.headDim);
  const out: NamedTensor[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const pre = layerPrefix(i);
    const names = packedNames(pre);
    const a = `${pre}.self_attn`;
    // [q; k; v] as [out, in], q scaled by the attention scale (rope is linear, so this commutes).
    const qkv = new Float32Array((qDim + 2 * kvDim) * D);
    qkv.set(get(`${a}.q_proj.weight`).map((x) => x * scale), 0);
    qkv.set(get(`${a}.k_proj.weight`), qDim * D);
    qkv.set(get(`${a}.v_proj.weight`), (qDim + kvDim) * D);
    out.push({ name: names.qkvW, dtype: 'F32', shape: [D, qDim + 2 * kvDim], data: transposed(qkv, qDim + 2 * kvDim, D) });
    if (c.attentionBias) {
      const b = new Float32Array(qDim + 2 * kvDim);
      b.set(get(`${a}.q_proj.bias`).map((x) => x * scale), 0);
      b.set(get(`${a}.k_proj.bias`), qDim);
      b.set(get(`${a}.v_proj.bias`), qDim + kvDim);
      out.push({ name: names.qkvB, dtype: 'F32', shape: [qDim + 2 * kvDim], data: b });
    }
    const F = c.intermediateSize;
    const gu = new Float32Array(2 * F * D);
    gu.set(get(`${pre}.mlp.gate_proj.weight`), 0);
    gu.set(get(`${pre}.mlp.up_proj.weight`), F * D);
    out.push({ name: names.gateUpW, dtype: 'F32', shape: [D, 2 * F], data: transposed(gu, 2 * F, D) });
  }
  return out;
}

function seqInputs(o: Ops, c: ResolvedModelConfig, T: string, Tk: string): { ids: Value; cos: Value; sin: Value; mask: Value } {
  return {
    ids: o.input('ids', ['B', T], 'int32'),
    cos: o.input('cos', ['B', T, c.headDim]),
    sin: o.input('sin', ['B', T, c.headDim]),
    mask: o.input('mask', ['B', 1, 1, T, Tk]),
  };
}

/**
 * The inputs of the GroupQueryAttention generation graph (FusedOps.gqa): ids, rotary tables, per
 * layer a cache [B, kv, C, hd] whose rows hold their tokens from slot 0, `seqlens_k` (int32 [B],
 * per row cached + new tokens - 1) and `total_sequence_length` (int32 scalar, the longest row's
 * cached + new tokens). A prefill feeds an empty cache (C = 0) and right-padded prompts.
 */
function gqaInputs(o: Ops, c: ResolvedModelConfig): { ids: Value; cos: Value; sin: Value; past: { k: Value; v: Value }[]; gqa: { seqlensK: Value; total: Value } } {
  const past = [...Array(c.numLayers).keys()].map((i) => ({
    k: o.input(`past_k_${i}`, ['B', c.numKvHeads, 'C', c.headDim]),
    v: o.input(`past_v_${i}`, ['B', c.numKvHeads, 'C', c.headDim]),
  }));
  return {
    ids: o.input('ids', ['B', 'T'], 'int32'),
    cos: o.input('cos', ['B', 'T', c.headDim]),
    sin: o.input('sin', ['B', 'T', c.headDim]),
    past,
    gqa: { seqlensK: o.input('seqlens_k', ['B'], 'int32'), total: o.input('total_sequence_length', [], 'int32') },
  };
}

export interface GenerationGraphOptions {
  /** Baked weights: token ids are looked up in the input EMBED_TABLE_INPUT (see buildGenerationGraph). */
  embedInput?: boolean;
  /** Given: initializers of 1 MiB or more are not copied into the protobuf but appended here (serializeModelExternal). */
  external?: ExternalData[];
  /** The contrib kernels to use (default GENERATION_FUSED_OPS). */
  fused?: FusedOps;
}

/** The input of baked generation graphs that the token ids are looked up in (the host's embedding, fed without a copy). */
export const EMBED_TABLE_INPUT = 'embed_table';

/** The contrib kernels the generation graphs use (see FusedOps and the policy README for the measurements). */
export const GENERATION_FUSED_OPS: FusedOps = { rotary: true };

/**
 * Generation graphs, with the weights baked in as initializers (or, for models too large for one
 * protobuf, fed as inputs with `weights = 'inputs'`). `prefill`: T prompt tokens attend
 * causally to each other. `decode`: T new tokens attend to C slots of a host-owned KV cache ([B, kv, 1, C, hd]) plus
 * themselves. Both return the logits at the `pick` position of each row and the new tokens' K/V.
 * With `fused.gqa` the decode graph is GroupQueryAttention's (see gqaInputs): it also returns
 * the kernel's present caches `present_k_i` / `present_v_i` (the cache with the new slots written
 * in; bound to the past buffers, the kernel writes them in place, but onnxruntime-node then copies
 * every bound output back into a new array, so the host fetches only the new K/V).
 */
export function buildGenerationGraph(c: ResolvedModelConfig, weights: readonly NamedTensor[] | 'inputs', mode: 'prefill' | 'decode', opts: GenerationGraphOptions = {}): Uint8Array {
  const o = new Ops(mode);
  const baked = weights !== 'inputs';
  const { lookup } = params(o, c, baked ? weights : undefined);
  // `embedInput` (baked weights): the id lookup reads a fed table, so the baked embedding is used by
  // the (tied) LM head alone; ONNX Runtime then keeps only its transposed, pre-packed copy instead
  // of that plus the embedding itself (an untied model's embedding is not baked at all).
  const embedTable = baked && opts.embedInput === true ? o.input(EMBED_TABLE_INPUT, [c.vocabSize, c.hiddenSize]) : undefined;
  const fused = opts.fused ?? GENERATION_FUSED_OPS;
  const pick = o.input('pick', ['B', 1, c.hiddenSize], 'int32');
  const embed = embedTable ? { embedTable } : {};
  if (fused.gqa === true) {
    if (mode !== 'decode') throw new Error('the GroupQueryAttention graph is a decode graph (it also prefills)');
    const out = forward(o, c, lookup, { ...gqaInputs(o, c), pick, packed: baked, fused, ...embed });
    o.output(out.logits, 'logits');
    out.present.forEach((kv, i) => {
      o.output(kv.k, `new_k_${i}`);
      o.output(kv.v, `new_v_${i}`);
    });
    (out.caches ?? []).forEach((kv, i) => {
      o.output(kv.k, `present_k_${i}`);
      o.output(kv.v, `present_v_${i}`);
    });
  } else {
    const inp = seqInputs(o, c, 'T', mode === 'prefill' ? 'T' : 'CT');
    let extra = {};
    if (mode === 'decode') {
      const past = [...Array(c.numLayers).keys()].map((i) => ({
        k: o.input(`past_k_${i}`, ['B', c.numKvHeads, 1, 'C', c.headDim]),
        v: o.input(`past_v_${i}`, ['B', c.numKvHeads, 1, 'C', c.headDim]),
      }));
      extra = { past, splitSizes: o.input('split_sizes', [2], 'int64') };
    }
    const out = forward(o, c, lookup, { ...inp, ...extra, pick, packed: baked, fused, ...embed });
    o.output(out.logits, 'logits');
    out.present.forEach((kv, i) => {
      o.output(kv.k, `new_k_${i}`);
      o.output(kv.v, `new_v_${i}`);
    });
  }
  return opts.external !== undefined ? serializeModelExternal(o.g, opts.external) : serializeModel(o.g);
}

/** Per-token logprobs of `targets` and entropies for right-padded batches. */
export function buildScoringGraph(c: ResolvedModelConfig): Uint8Array {
  const o = new Ops('score');
  const { lookup } = params(o, c);
  const inp = seqInputs(o, c, 'T', 'T');
  const targets = o.input('targets', ['B', 'T'], 'int32');
  const invTemp = o.input('inv_temp', []);
  const { logits } = forward(o, c, lookup, inp);
  const h = tokenLogprobs(o, logits, targets, invTemp);
  o.output(h.tokLogp, 'logprobs');
  o.output(h.entropy, 'entropy');
  return serializeModel(o.g);
}

/**
 * Forward, loss and the gradient of every parameter in one graph. The per-token `weight` input
 * carries both the loss mask and the aggregation (token-mean, sequence-mean, constant), computed on
 * the host over the whole batch, so micro-batch gradients simply add up.
 *   pg:  sum_t w_t * ( -min(r A, clip(r, 1-eps_low, 1+eps_high) A) + kl_coef * k3 - ent_coef * H )
 *   sft: sum_t w_t * ( -log p(target_t) )
 */
export function buildTrainingGraph(c: ResolvedModelConfig, kind: LossKind, ft: FloatType = 'float32'): { bytes: Uint8Array; paramNames: string[] } {
  const o = new Ops(`train_${kind}`, ft);
  const { lookup, values } = params(o, c);
  const inp = seqInputs(o, c, 'T', 'T');
  const targets = o.input('targets', ['B', 'T'], 'int32');
  const weight = o.input('weight', ['B', 'T']);
  const invTemp = o.input('inv_temp', []);
  const { logits } = forward(o, c, lookup, inp);
  const h = tokenLogprobs(o, logits, targets, invTemp);
  const perTok = perTokenLoss(o, kind, h.tokLogp, h.entropy, kind === 'pg' ? pgLossInputs(o, ['B', 'T']) : undefined);
  const loss = o.reduceSum(o.mul(perTok, weight), [0, 1], false);
  const grads = backprop(o, loss, values);
  o.output(loss, 'loss');
  o.output(h.tokLogp, 'logprobs');
  o.output(h.entropy, 'entropy');
  for (const v of values) o.output(grads.get(v.name) as Value, gradName(v.name));
  return { bytes: serializeModel(o.g), paramNames: values.map((v) => v.name) };
}

/** Full-sequence logits [B, T, V] (params as inputs), for parity checks against other implementations. */
export function buildLogitsGraph(c: ResolvedModelConfig): Uint8Array {
  const o = new Ops('logits');
  const { lookup } = params(o, c);
  const inp = seqInputs(o, c, 'T', 'T');
  o.output(forward(o, c, lookup, inp).logits, 'logits');
  return serializeModel(o.g);
}
