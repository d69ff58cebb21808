import type { ResolvedModelConfig } from './config.js';
import { seededNormal } from '@acereason/protocol';

/** One named parameter tensor, Hugging Face name and layout (Linear weights are [out, in]). */
export interface ParamSpec {
  name: string;
  shape: number[];
  /** How it is initialised for a fresh model. */
  init: 'normal' | 'ones' | 'zeros';
}

export interface NamedTensor {
  name: string;
  dtype: 'F32';
  shape: number[];
  data: Float32Array;
}

export const layerPrefix = (i: number): string => `model.layers.${i}`;

/** Every parameter of the model in a fixed order, named as in Hugging Face Llama / Qwen2 / Qwen3 checkpoints. */
export function paramSpecs(c: ResolvedModelConfig): ParamSpec[] {
  const D = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const specs: ParamSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, D], init: 'normal' }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = layerPrefix(i);
    specs.push({ name: `${p}.input_layernorm.weight`, shape: [D], init: 'ones' });
    specs.push({ name: `${p}.self_attn.q_proj.weight`, shape: [q, D], init: 'normal' });
    if (c.attentionBias) specs.push({ name: `${p}.self_attn.q_proj.bias`, shape: [q], init: 'zeros' });
    specs.push({ name: `${p}.self_attn.k_proj.weight`, shape: [kv, D], init: 'normal' });
    if (c.attentionBias) specs.push({ name: `${p}.self_attn.k_proj.bias`, shape: [kv], init: 'zeros' });
    specs.push({ name: `${p}.self_attn.v_proj.weight`, shape: [kv, D], init: 'normal' });
    if (c.attentionBias) specs.push({ name: `${p}.self_attn.v_proj.bias`, shape: [kv], init: 'zeros' });
    if (c.qkNorm) {
      specs.push({ name: `${p}.self_attn.q_norm.weight`, shape: [c.headDim], init: 'ones' });
      specs.push({ name: `${p}.self_attn.k_norm.weight`, shape: [c.headDim], init: 'ones' });
    }
    specs.push({ name: `${p}.self_attn.o_proj.weight`, shape: [D, q], init: 'normal' });
    specs.push({ name: `${p}.post_attention_layernorm.weight`, shape: [D], init: 'ones' });
    specs.push({ name: `${p}.mlp.gate_proj.weight`, shape: [c.intermediateSize, D], init: 'normal' });
    specs.push({ name: `${p}.mlp.up_proj.weight`, shape: [c.intermediateSize, D], init: 'normal' });
    specs.push({ name: `${p}.mlp.down_proj.weight`, shape: [D, c.intermediateSize], init: 'normal' });
  }
  specs.push({ name: 'model.norm.weight', shape: [D], init: 'ones' });
  if (!c.tieEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, D], init: 'normal' });
  return specs;
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Deterministic fresh weights (std 0.02 normal, as in the HF initialisers) from a seed; `alloc` gives each tensor's (zeroed) storage. */
export function initWeights(c: ResolvedModelConfig, seed: number, alloc: (n: number, index: number) => Float32Array = (n) => new Float32Array(n)): NamedTensor[] {
  const normal = seededNormal((seed >>> 0) ^ 0x9e3779b9, 0.02);
  return paramSpecs(c).map((p, k) => {
    const data = alloc(numel(p.shape), k);
    if (p.init === 'ones') data.fill(1);
    else if (p.init === 'normal') for (let i = 0; i < data.length; i++) data[i] = normal();
    return { name: p.name, dtype: 'F32', shape: [...p.shape], data };
  });
}
