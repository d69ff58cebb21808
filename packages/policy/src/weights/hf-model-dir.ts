import type { ResolvedModelConfig } from '../model/config.js';
import type { NamedTensor } from '../model/params.js';
import { readHfAssets } from './hf-assets.js';
import type { HfAssets } from './hf-assets.js';
import { planHfWeights, readHfWeights } from './hf-dir-reader.js';
import type { Json } from './hf-files.js';

/** A Hugging Face model directory, loaded: the model config, its weights (float32) and its asset files. */
export interface HfModelDir {
  dir: string;
  model: ResolvedModelConfig;
  /** config.json as written in the directory (kept to write checkpoints with the same fields). */
  hfConfig: Json;
  weights: NamedTensor[];
  assets: HfAssets;
}

/**
 * Loads a model directory: config.json, the safetensors shards (one or many, with their index),
 * tokenizer and generation files. Everything is checked before any weight is read; weights stream
 * tensor by tensor, so peak memory stays near the final float32 weights.
 */
export function loadHfModelDir(dir: string): HfModelDir {
  const plan = planHfWeights(dir);
  const assets = readHfAssets(dir);
  return { dir, model: plan.model, hfConfig: plan.hfConfig, weights: readHfWeights(plan), assets };
}
