import { ValidationError } from '@acereason/protocol';
import type { ResolvedModelConfig } from '../model/config.js';
import { paramSpecs } from '../model/params.js';
import type { NamedTensor } from '../model/params.js';

/** Tensors a checkpoint may carry that the model does not use and that change nothing when ignored. */
export function harmlessExtraTensor(name: string, c: ResolvedModelConfig): boolean {
  if (name.endsWith('.rotary_emb.inv_freq')) return true; // recomputed from config.json
  return name === 'lm_head.weight' && c.tieEmbeddings; // a tied model's copy of the embedding
}

/**
 * Picks and checks the model's tensors from a Hugging Face state dict (our names are the HF
 * names). A tensor the model would not use is refused (it would be computed wrongly without it),
 * apart from the harmless ones above; a wrong shape names the tensor.
 */
export function selectModelWeights(c: ResolvedModelConfig, tensors: readonly NamedTensor[]): NamedTensor[] {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const specs = paramSpecs(c);
  const wanted = new Set(specs.map((s) => s.name));
  for (const t of tensors) if (!wanted.has(t.name) && !harmlessExtraTensor(t.name, c)) throw new ValidationError(`weights.${t.name}`, 'the model does not use this tensor');
  return specs.map((s) => {
    const t = byName.get(s.name);
    if (t === undefined) throw new ValidationError(`weights.${s.name}`, 'missing');
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) throw new ValidationError(`weights.${s.name}`, `shape [${t.shape.join(',')}] != expected [${s.shape.join(',')}]`);
    return t;
  });
}
