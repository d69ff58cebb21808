import { hfConfigFromModel, modelConfigFromHf } from '../model/hf-config.js';
import { numel, paramSpecs } from '../model/params.js';
import type { Json } from './hf-files.js';
import { writeHfModelDir } from './hf-dir-writer.js';
import type { TensorSource, WriteDtype } from './safetensors-writer.js';
import { seededNormal } from '@acereason/protocol';

export interface RandomModelDirOptions {
  seed?: number;
  dtype?: WriteDtype;
  maxShardBytes?: number;
  /** Std of matrices (default 0.02, as HF initialisers); norms are 1 + std*5*N(0,1), biases std*5*N(0,1). */
  std?: number;
  files?: Record<string, string | Uint8Array>;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Writes a Hugging Face model directory with random weights for a config.json (e.g. a preset of
 * a public model): every tensor the model uses, generated one at a time while it is written, so a
 * full-size model needs no more memory than its largest tensor.
 */
export function writeRandomHfModelDir(dir: string, hfConfig: Json, o: RandomModelDirOptions = {}): void {
  const model = modelConfigFromHf(hfConfig);
  const std = o.std ?? 0.02;
  const seed = o.seed ?? 0;
  const tensors: TensorSource[] = paramSpecs(model).map((s) => ({
    name: s.name,
    shape: s.shape,
    data: () => {
      // A stream per tensor, so tensors do not depend on order.
      const n = seededNormal(seed ^ hash(s.name));
      const d = new Float32Array(numel(s.shape));
      if (s.init === 'ones') for (let i = 0; i < d.length; i++) d[i] = 1 + 5 * std * n();
      else if (s.init === 'zeros') for (let i = 0; i < d.length; i++) d[i] = 5 * std * n();
      else for (let i = 0; i < d.length; i++) d[i] = std * n();
      return d;
    },
  }));
  writeHfModelDir(dir, {
    config: hfConfigFromModel(model, hfConfig),
    tensors,
    ...(o.dtype === undefined ? {} : { dtype: o.dtype }),
    ...(o.maxShardBytes === undefined ? {} : { maxShardBytes: o.maxShardBytes }),
    ...(o.files === undefined ? {} : { files: o.files }),
  });
}
