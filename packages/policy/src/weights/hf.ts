import { ValidationError } from '@acereason/protocol';
import type { ResolvedModelConfig } from '../model/config.js';
import { paramSpecs } from '../model/params.js';
import type { NamedTensor } from '../model/params.js';

/**
 * Picks and checks the model's tensors from a Hugging Face Llama/Qwen2 state dict (our names are
 * the HF names). Extra tensors (e.g. rotary caches) are ignored; a tied checkpoint that also ships
 * lm_head.weight is accepted.
 */
export function selectModelWeights(c: ResolvedModelConfig, tensors: readonly NamedTensor[]): NamedTensor[] {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return paramSpecs(c).map((s) => {
    const t = byName.get(s.name);
    if (t === undefined) throw new ValidationError(`weights.${s.name}`, 'missing');
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) throw new ValidationError(`weights.${s.name}`, `shape [${t.shape.join(',')}] != expected [${s.shape.join(',')}]`);
    return t;
  });
}
