/**
 * GRPO group advantages and the per-stage treatment of truncated responses.
 * A_i = (S_i - mean(S)) / (std(S) + eps), the same for every token of response i.
 */
import type { OverlongPolicy } from '../config/run-config.js';

export interface ShapedGroup {
  /** Rewards after the over-long policy. */
  rewards: number[];
  /** 1 = the response is in the loss; 0 = masked out (over-long filtering). */
  masks: number[];
  advantages: number[];
  /** All rewards equal: no learning signal. */
  zeroVariance: boolean;
}

export interface ShapeSettings {
  overlong: OverlongPolicy;
  maxResponseTokens: number;
  overlongPenaltyTokens: number;
  advantage: 'grpo' | 'grpo-no-std';
  eps: number;
}

/** Sample standard deviation (n - 1), as the common GRPO implementations compute it. */
function std(xs: readonly number[], mean: number): number {
  if (xs.length < 2) return 0;
  let s = 0;
  for (const x of xs) s += (x - mean) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

export function shapeGroup(raw: readonly number[], truncated: readonly boolean[], lengths: readonly number[], s: ShapeSettings): ShapedGroup {
  const rewards = raw.map((r, i) => {
    if (!truncated[i]) {
      if (s.overlong === 'penalty') {
        // DAPO soft penalty: linear in how far into the last `overlongPenaltyTokens` the response went.
        const start = s.maxResponseTokens - s.overlongPenaltyTokens;
        const len = lengths[i] ?? 0;
        return len > start ? r - Math.min(1, (len - start) / Math.max(1, s.overlongPenaltyTokens)) : r;
      }
      return r;
    }
    return s.overlong === 'zero' || s.overlong === 'penalty' ? 0 : r;
  });
  const masks = truncated.map((t) => (t && s.overlong === 'mask' ? 0 : 1));
  // Statistics over the responses that stay in the loss.
  const kept = rewards.filter((_, i) => masks[i] === 1);
  const mean = kept.length ? kept.reduce((a, b) => a + b, 0) / kept.length : 0;
  const sd = std(kept, mean);
  const zeroVariance = kept.length < 2 || kept.every((r) => r === kept[0]);
  const advantages = rewards.map((r, i) => {
    if (masks[i] === 0 || zeroVariance) return 0;
    return s.advantage === 'grpo' ? (r - mean) / (sd + s.eps) : r - mean;
  });
  return { rewards, masks, advantages, zeroVariance };
}
