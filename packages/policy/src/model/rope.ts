import type { ResolvedModelConfig } from './config.js';

/**
 * Llama 3.x rotary scaling (`rope_scaling.rope_type: llama3`): long wavelengths are divided by
 * `factor`, short ones are kept, and the band between is interpolated smoothly.
 */
export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  /** `original_max_position_embeddings` of the pre-extension model. */
  originalMaxPositions: number;
}

export type RopeScaling = Llama3RopeScaling;

/**
 * Rotary inverse frequencies for the model's head size, with its rope scaling applied (the same
 * formulas as the Hugging Face implementations; float64 here, rounded once into the tables).
 */
export function ropeInvFreq(c: Pick<ResolvedModelConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float64Array {
  const half = c.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(c.ropeTheta, (2 * i) / c.headDim);
  const s = c.ropeScaling;
  if (s === null) return inv;
  const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositions / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const f = inv[i] as number;
    const wavelen = (2 * Math.PI) / f;
    if (wavelen > lowWavelen) inv[i] = f / s.factor;
    else if (wavelen >= highWavelen) {
      const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      inv[i] = (1 - smooth) * (f / s.factor) + smooth * f;
    }
  }
  return inv;
}
