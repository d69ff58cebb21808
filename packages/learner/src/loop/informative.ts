/**
 * The one definition of "a group with a learning signal": after the stage's over-long policy has
 * shaped its rewards (a response masked out for truncation does not count), the responses left
 * in the loss do not all have the same reward. Over-sampling counts with it and the batch filters
 * with it, so the step trains on the number of groups it planned.
 */
import type { ScoredGroup } from '@acereason/protocol';
import type { AlgorithmConfig, StageConfig } from '../config/run-config.js';
import { shapeGroup, type ShapedGroup, type ShapeSettings } from './advantages.js';

export function shapeSettings(stage: StageConfig, algo: AlgorithmConfig): ShapeSettings {
  return { overlong: stage.overlong, maxResponseTokens: stage.maxResponseTokens, overlongPenaltyTokens: stage.overlongPenaltyTokens, advantage: algo.advantage, eps: algo.advantageEps };
}

/** A scored group's rewards shaped by the stage's over-long policy, with its group advantages. */
export function shapeScored(sg: ScoredGroup, s: ShapeSettings): ShapedGroup {
  const responses = sg.group.responses;
  return shapeGroup(sg.results.map((r) => r.reward), responses.map((r) => r.finishReason === 'length'), responses.map((r) => r.tokens.length), s);
}

export function isInformative(shaped: ShapedGroup): boolean {
  return !shaped.zeroVariance;
}

/** How many of the groups the batch will train on (every group when the stage keeps zero-variance ones). */
export function usableGroups(groups: readonly (ScoredGroup | undefined)[], stage: StageConfig, algo: AlgorithmConfig): number {
  const s = shapeSettings(stage, algo);
  let n = 0;
  for (const g of groups) if (g && (!stage.zeroVarianceFilter || isInformative(shapeScored(g, s)))) n++;
  return n;
}

/**
 * Prompts to add to a step whose collected groups are not enough to fill the batch, or 0: the
 * shortfall of usable groups, scaled by `1 + oversample`. Only for stages that filter groups
 * without signal and over-sample.
 */
export function extraPrompts(groups: readonly (ScoredGroup | undefined)[], stage: StageConfig, algo: AlgorithmConfig): number {
  if (!stage.zeroVarianceFilter || stage.oversample <= 0) return 0;
  const usable = usableGroups(groups, stage, algo);
  return usable >= stage.batchPrompts ? 0 : Math.ceil((stage.batchPrompts - usable) * (1 + stage.oversample));
}
