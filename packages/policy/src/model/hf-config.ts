import { ValidationError } from '@acereason/protocol';
import { validateModelConfig } from './config.js';
import type { ModelConfig, ResolvedModelConfig } from './config.js';
import type { RopeScaling } from './rope.js';

/** The Hugging Face architectures the model definition computes exactly, by `architectures[0]`. */
const ARCHITECTURES = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
} as const;
export type HfArchitecture = keyof typeof ARCHITECTURES;
export const SUPPORTED_ARCHITECTURES = Object.keys(ARCHITECTURES) as HfArchitecture[];

type Json = Record<string, unknown>;

/**
 * A Hugging Face `config.json` as a ModelConfig. Everything the model definition does not compute
 * is refused with the field that asks for it (other rope scalings, sliding windows, MoE, biases it
 * has no place for), so a model never loads with wrong numerics. `file` prefixes error fields.
 */
export function modelConfigFromHf(hf: Json, file = 'config.json'): ResolvedModelConfig {
  const at = (k: string): string => `${file}:${k}`;
  const archs = hf.architectures;
  if (!Array.isArray(archs) || archs.length !== 1 || typeof archs[0] !== 'string') throw new ValidationError(at('architectures'), `must list exactly one architecture (one of ${SUPPORTED_ARCHITECTURES.join(', ')})`);
  const arch = archs[0];
  if (!(arch in ARCHITECTURES)) throw new ValidationError(at('architectures'), `${arch} is not supported (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`);
  const family = ARCHITECTURES[arch as HfArchitecture];
  const num = (k: string, d?: number): number => {
    const v = hf[k];
    if (typeof v === 'number') return v;
    if (v === undefined && d !== undefined) return d;
    throw new ValidationError(at(k), v === undefined ? 'missing' : `must be a number, got ${JSON.stringify(v)}`);
  };
  const flag = (k: string, d: boolean): boolean => {
    const v = hf[k];
    if (v === undefined || v === null) return d;
    if (typeof v !== 'boolean') throw new ValidationError(at(k), `must be a boolean, got ${JSON.stringify(v)}`);
    return v;
  };
  const refuse = (k: string, why: string): never => {
    throw new ValidationError(at(k), why);
  };

  const act = hf.hidden_act ?? hf.hidden_activation;
  if (act !== undefined && act !== 'silu') refuse('hidden_act', `only silu is computed, got ${JSON.stringify(act)}`);
  if (flag('mlp_bias', false)) refuse('mlp_bias', 'MLP biases are not computed');
  for (const k of ['num_experts', 'num_local_experts', 'n_routed_experts', 'moe_intermediate_size']) {
    if (typeof hf[k] === 'number' && (hf[k] as number) > 0) refuse(k, 'mixture-of-experts models are not supported');
  }
  if (family === 'llama') {
    if (hf.sliding_window !== undefined && hf.sliding_window !== null) refuse('sliding_window', 'sliding-window attention is not supported');
  } else if (flag('use_sliding_window', false)) refuse('use_sliding_window', 'sliding-window attention is not supported');
  if (typeof hf.partial_rotary_factor === 'number' && hf.partial_rotary_factor !== 1) refuse('partial_rotary_factor', 'partial rotary embeddings are not supported');
  if (hf.layer_types !== undefined && Array.isArray(hf.layer_types) && hf.layer_types.some((t) => t !== 'full_attention')) refuse('layer_types', 'only full_attention layers are computed');

  // q/k/v biases: Qwen2 always has them and no o_proj bias; Llama and Qwen3 put attention_bias on
  // o_proj as well, where the model definition has no bias.
  let attentionBias: boolean;
  if (family === 'qwen2') {
    if (hf.attention_bias === false) refuse('attention_bias', 'Qwen2 always has q/k/v biases; false is not a Qwen2 model');
    attentionBias = true;
  } else {
    if (flag('attention_bias', false)) refuse('attention_bias', `${arch} with attention_bias also biases o_proj, which is not computed`);
    attentionBias = false;
  }

  const heads = num('num_attention_heads');
  const cfg: ModelConfig = {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    intermediateSize: num('intermediate_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: heads,
    numKvHeads: num('num_key_value_heads', heads),
    ropeTheta: num('rope_theta', 10000),
    maxPositions: num('max_position_embeddings', 4096),
    rmsNormEps: num('rms_norm_eps', 1e-6),
    attentionBias,
    tieEmbeddings: flag('tie_word_embeddings', false),
    qkNorm: family === 'qwen3',
    ropeScaling: ropeScalingFromHf(hf.rope_scaling, at('rope_scaling')),
  };
  if (hf.head_dim !== undefined && hf.head_dim !== null) cfg.headDim = num('head_dim');
  try {
    return validateModelConfig(cfg, file);
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(at(HF_NAMES[(e.field ?? '').slice(file.length + 1)] ?? 'config'), e.message.slice((e.field ?? '').length + 2), { cause: e });
    throw e;
  }
}

/** ModelConfig field -> config.json key, so a validation error names the user's field. */
const HF_NAMES: Record<string, string> = {
  vocabSize: 'vocab_size', hiddenSize: 'hidden_size', intermediateSize: 'intermediate_size', numLayers: 'num_hidden_layers',
  numHeads: 'num_attention_heads', numKvHeads: 'num_key_value_heads', headDim: 'head_dim', ropeTheta: 'rope_theta',
  maxPositions: 'max_position_embeddings', rmsNormEps: 'rms_norm_eps',
};

function ropeScalingFromHf(r: unknown, field: string): RopeScaling | null {
  if (r === undefined || r === null) return null;
  if (typeof r !== 'object' || Array.isArray(r)) throw new ValidationError(field, 'must be an object or null');
  const o = r as Json;
  const type = o.rope_type ?? o.type;
  if (type === 'default') return null;
  if (type !== 'llama3') throw new ValidationError(`${field}.rope_type`, `only llama3 (or default) is computed, got ${JSON.stringify(type)}`);
  const n = (k: string): number => {
    if (typeof o[k] !== 'number') throw new ValidationError(`${field}.${k}`, 'must be a number');
    return o[k] as number;
  };
  return { type: 'llama3', factor: n('factor'), lowFreqFactor: n('low_freq_factor'), highFreqFactor: n('high_freq_factor'), originalMaxPositions: n('original_max_position_embeddings') };
}

/** The config.json that describes `c` (written into checkpoints, so transformers and vLLM load them). */
export function hfConfigFromModel(c: ResolvedModelConfig, base: Json = {}): Json {
  const arch = c.qkNorm ? 'Qwen3ForCausalLM' : c.attentionBias ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM';
  const out: Json = {
    ...base,
    architectures: [arch],
    model_type: ARCHITECTURES[arch],
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    rope_theta: c.ropeTheta,
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.rmsNormEps,
    tie_word_embeddings: c.tieEmbeddings,
    hidden_act: 'silu',
    torch_dtype: typeof base.torch_dtype === 'string' ? base.torch_dtype : 'float32',
    rope_scaling: c.ropeScaling === null ? null : { rope_type: 'llama3', factor: c.ropeScaling.factor, low_freq_factor: c.ropeScaling.lowFreqFactor, high_freq_factor: c.ropeScaling.highFreqFactor, original_max_position_embeddings: c.ropeScaling.originalMaxPositions },
  };
  if (arch !== 'Qwen2ForCausalLM') out.attention_bias = false;
  return out;
}
