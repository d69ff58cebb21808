import { ValidationError } from '@acereason/protocol';

export type Schedule = 'constant' | 'linear-warmup' | 'cosine';

export interface OptimizerConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled (AdamW) weight decay; not applied to norms and biases. */
  weightDecay: number;
  /** Global-norm clipping threshold; 0 disables. */
  maxGradNorm: number;
  schedule: Schedule;
  warmupSteps: number;
  /** Length of the cosine decay (after warmup). */
  totalSteps: number;
  /** Cosine floor as a fraction of learningRate. */
  minLrRatio: number;
  /** Tokens per micro-batch (padded rows x length); sequences are packed greedily. */
  microBatchTokens: number;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = {
  learningRate: 1e-6,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  maxGradNorm: 1.0,
  schedule: 'constant',
  warmupSteps: 0,
  totalSteps: 1000,
  minLrRatio: 0,
  microBatchTokens: 4096,
};

export function validateOptimizerConfig(o: OptimizerConfig, field = 'optimizer'): OptimizerConfig {
  const pos = (k: keyof OptimizerConfig, v: number, allowZero = false): void => {
    if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new ValidationError(`${field}.${k}`, `must be ${allowZero ? '>= 0' : '> 0'}, got ${v}`);
  };
  pos('learningRate', o.learningRate, true);
  if (!(o.beta1 >= 0 && o.beta1 < 1)) throw new ValidationError(`${field}.beta1`, 'must be in [0, 1)');
  if (!(o.beta2 >= 0 && o.beta2 < 1)) throw new ValidationError(`${field}.beta2`, 'must be in [0, 1)');
  pos('eps', o.eps);
  pos('weightDecay', o.weightDecay, true);
  pos('maxGradNorm', o.maxGradNorm, true);
  if (!['constant', 'linear-warmup', 'cosine'].includes(o.schedule)) throw new ValidationError(`${field}.schedule`, 'must be constant, linear-warmup or cosine');
  if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0) throw new ValidationError(`${field}.warmupSteps`, 'must be an integer >= 0');
  if (!Number.isInteger(o.totalSteps) || o.totalSteps < 1) throw new ValidationError(`${field}.totalSteps`, 'must be an integer >= 1');
  if (!(o.minLrRatio >= 0 && o.minLrRatio <= 1)) throw new ValidationError(`${field}.minLrRatio`, 'must be in [0, 1]');
  if (!Number.isInteger(o.microBatchTokens) || o.microBatchTokens < 1) throw new ValidationError(`${field}.microBatchTokens`, 'must be an integer >= 1');
  return o;
}

/** Learning rate for optimizer step `step` (0-based). */
export function learningRateAt(o: OptimizerConfig, step: number): number {
  const warm = o.schedule === 'constant' ? 0 : o.warmupSteps;
  if (step < warm) return (o.learningRate * (step + 1)) / warm;
  if (o.schedule !== 'cosine') return o.learningRate;
  const t = Math.min(1, (step - warm) / Math.max(1, o.totalSteps - warm));
  const min = o.learningRate * o.minLrRatio;
  return min + (o.learningRate - min) * 0.5 * (1 + Math.cos(Math.PI * t));
}
