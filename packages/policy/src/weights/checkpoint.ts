import { modelConfigFromHf } from '../model/hf-config.js';
import type { ResolvedModelConfig } from '../model/config.js';
import type { NamedTensor } from '../model/params.js';
import { readSafetensors } from './safetensors.js';
import { selectModelWeights } from './hf.js';

/**
 * A Hugging Face Llama/Qwen2 checkpoint from its files: `config.json` text and the bytes of every
 * safetensors shard (model.safetensors or model-0000x-of-0000n.safetensors). Returns the model
 * config and the model's tensors, ready for `createOnnxEngine({ model, weights })`.
 */
export function loadHfCheckpoint(configJson: string, shards: readonly Uint8Array[]): { model: ResolvedModelConfig; weights: NamedTensor[] } {
  const model = modelConfigFromHf(JSON.parse(configJson) as Record<string, unknown>);
  const all = shards.flatMap((b) => readSafetensors(b).tensors);
  return { model, weights: selectModelWeights(model, all) };
}
