import { ValidationError } from '@acereason/protocol';

/** A decoder-only transformer of the Llama / Qwen2 family. */
export interface ModelConfig {
  vocabSize: number;
  hiddenSize: number;
  /** Width of the SwiGLU MLP. */
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Grouped-query attention: key/value heads; must divide numHeads. */
  numKvHeads: number;
  /** Defaults to hiddenSize / numHeads. */
  headDim?: number;
  ropeTheta: number;
  maxPositions: number;
  rmsNormEps: number;
  /** q/k/v projection biases, as in Qwen2. */
  attentionBias: boolean;
  /** The LM head shares the token embedding matrix. */
  tieEmbeddings: boolean;
}

export type ResolvedModelConfig = Required<ModelConfig>;

function posInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ValidationError(field, `must be a positive integer, got ${String(v)}`);
  return v;
}
function posNum(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValidationError(field, `must be a positive number, got ${String(v)}`);
  return v;
}
function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ValidationError(field, `must be a boolean, got ${String(v)}`);
  return v;
}

/** Checks every field and fills defaults; errors name the offending field (`model.numKvHeads: ...`). */
export function validateModelConfig(c: ModelConfig, prefix = 'model'): ResolvedModelConfig {
  const f = (k: string): string => `${prefix}.${k}`;
  const numHeads = posInt(f('numHeads'), c.numHeads);
  const numKvHeads = posInt(f('numKvHeads'), c.numKvHeads);
  const hiddenSize = posInt(f('hiddenSize'), c.hiddenSize);
  if (numHeads % numKvHeads !== 0) throw new ValidationError(f('numKvHeads'), `must divide numHeads (${numHeads}), got ${numKvHeads}`);
  if (c.headDim === undefined && hiddenSize % numHeads !== 0) throw new ValidationError(f('hiddenSize'), `must be divisible by numHeads (${numHeads}) when headDim is not given`);
  const headDim = c.headDim === undefined ? hiddenSize / numHeads : posInt(f('headDim'), c.headDim);
  if (headDim % 2 !== 0) throw new ValidationError(f('headDim'), `must be even for rotary embeddings, got ${headDim}`);
  return {
    vocabSize: posInt(f('vocabSize'), c.vocabSize),
    hiddenSize,
    intermediateSize: posInt(f('intermediateSize'), c.intermediateSize),
    numLayers: posInt(f('numLayers'), c.numLayers),
    numHeads,
    numKvHeads,
    headDim,
    ropeTheta: posNum(f('ropeTheta'), c.ropeTheta),
    maxPositions: posInt(f('maxPositions'), c.maxPositions),
    rmsNormEps: posNum(f('rmsNormEps'), c.rmsNormEps),
    attentionBias: bool(f('attentionBias'), c.attentionBias),
    tieEmbeddings: bool(f('tieEmbeddings'), c.tieEmbeddings),
  };
}

/** A Hugging Face `config.json` (LlamaForCausalLM / Qwen2ForCausalLM) as a ModelConfig. */
export function modelConfigFromHf(hf: Record<string, unknown>): ResolvedModelConfig {
  const arch = Array.isArray(hf.architectures) ? String(hf.architectures[0]) : String(hf.model_type ?? '');
  const num = (k: string, d?: number): number => {
    const v = hf[k];
    if (typeof v === 'number') return v;
    if (d !== undefined) return d;
    throw new ValidationError(`config.${k}`, 'missing');
  };
  // Variants this implementation does not compute must not load silently with wrong numerics.
  if (hf.rope_scaling !== undefined && hf.rope_scaling !== null) throw new ValidationError('config.rope_scaling', 'rope scaling is not supported');
  if (hf.use_sliding_window === true) throw new ValidationError('config.use_sliding_window', 'sliding-window attention is not supported');
  if (typeof hf.hidden_act === 'string' && hf.hidden_act !== 'silu') throw new ValidationError('config.hidden_act', `only silu is supported, got ${hf.hidden_act}`);
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
    attentionBias: typeof hf.attention_bias === 'boolean' ? hf.attention_bias : /qwen2/i.test(arch),
    tieEmbeddings: hf.tie_word_embeddings === true,
  };
  if (typeof hf.head_dim === 'number') cfg.headDim = hf.head_dim;
  return validateModelConfig(cfg, 'config');
}

/** The small model used by the demo and the tests. */
export const DEMO_MODEL: ModelConfig = {
  vocabSize: 64,
  hiddenSize: 64,
  intermediateSize: 128,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  ropeTheta: 10000,
  maxPositions: 512,
  rmsNormEps: 1e-6,
  attentionBias: true,
  tieEmbeddings: false,
};
