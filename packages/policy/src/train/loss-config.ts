import { ValidationError } from '@acereason/protocol';

export type Aggregation = 'token-mean' | 'seq-mean-token-mean' | 'constant';

/** Loss variants are chosen by name. */
export type LossConfig =
  | {
      kind: 'pg';
      epsLow: number;
      epsHigh: number;
      /** k3 KL-to-reference coefficient (0 = off, the recipe's default). */
      klCoef?: number;
      /** Entropy bonus coefficient (0 = off). */
      entropyCoef?: number;
      aggregation: Aggregation;
      /** Normaliser for `constant` aggregation (Dr.GRPO), e.g. the max response length. */
      constantNormalizer?: number;
      /** Temperature the behaviour logprobs were sampled at (default 1). */
      temperature?: number;
    }
  | { kind: 'sft'; aggregation: Aggregation; constantNormalizer?: number; temperature?: number };

export function validateLossConfig(l: LossConfig, field = 'loss'): void {
  if (l.kind !== 'pg' && l.kind !== 'sft') throw new ValidationError(`${field}.kind`, 'must be "pg" or "sft"');
  if (!['token-mean', 'seq-mean-token-mean', 'constant'].includes(l.aggregation)) throw new ValidationError(`${field}.aggregation`, 'must be token-mean, seq-mean-token-mean or constant');
  if (l.aggregation === 'constant' && !((l.constantNormalizer ?? 0) > 0)) throw new ValidationError(`${field}.constantNormalizer`, 'must be > 0 for constant aggregation');
  if (l.temperature !== undefined && !(l.temperature > 0)) throw new ValidationError(`${field}.temperature`, 'must be > 0');
  if (l.kind === 'pg') {
    if (!(l.epsLow >= 0 && l.epsLow < 1)) throw new ValidationError(`${field}.epsLow`, 'must be in [0, 1)');
    if (!(l.epsHigh >= 0)) throw new ValidationError(`${field}.epsHigh`, 'must be >= 0');
  }
}

/**
 * Per-token loss weights for the whole batch, so that summing micro-batch losses gives the
 * aggregated loss: token-mean divides by all weighted tokens of the batch, seq-mean-token-mean by
 * each sequence's tokens and the number of sequences, constant by a fixed number (Dr.GRPO).
 */
export function tokenWeights(masks: readonly Float32Array[], l: LossConfig): Float32Array[] {
  const counts = masks.map((m) => m.reduce((a, b) => a + b, 0));
  const total = counts.reduce((a, b) => a + b, 0);
  const nonEmpty = counts.filter((c) => c > 0).length;
  return masks.map((m, i) => {
    let denom: number;
    if (l.aggregation === 'token-mean') denom = total;
    else if (l.aggregation === 'seq-mean-token-mean') denom = (counts[i] ?? 0) * nonEmpty;
    else denom = (l.constantNormalizer ?? 1) * masks.length;
    return denom > 0 ? m.map((x) => x / denom) : new Float32Array(m.length);
  });
}
