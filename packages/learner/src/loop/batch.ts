/**
 * From a step's scored groups to the policy's TrainBatch, built once: rewards shaped by the
 * stage's over-long policy, GRPO advantages per group, groups without signal filtered (see
 * informative.ts), at most `limit` groups trained on (in slot order), per-token advantage, loss
 * mask and behaviour logprobs (for importance ratios in async mode). The statistics (and the
 * staleness) cover every group collected; `used` and `sequences` the groups trained on.
 */
import type { ScoredGroup } from '@acereason/protocol';
import type { TrainSequence } from '@acereason/policy';
import type { AlgorithmConfig, StageConfig } from '../config/run-config.js';
import { isInformative, shapeScored, shapeSettings } from './informative.js';

export interface BuiltBatch {
  sequences: TrainSequence[];
  /** Groups that entered the batch. */
  used: ScoredGroup[];
  zeroVarianceGroups: number;
  /** Raw reward of every response of every group (before shaping), for metrics. */
  rawRewards: number[];
  correct: number;
  responses: number;
  truncated: number;
  lengths: number[];
  entropies: number[];
  /** Policy versions behind the trained version, per group collected (slot order). */
  staleness: number[];
  maskedResponses: number;
}

export function buildBatch(groups: readonly ScoredGroup[], stage: StageConfig, algo: AlgorithmConfig, currentVersion: number, limit = Number.POSITIVE_INFINITY): BuiltBatch {
  const out: BuiltBatch = { sequences: [], used: [], zeroVarianceGroups: 0, rawRewards: [], correct: 0, responses: 0, truncated: 0, lengths: [], entropies: [], staleness: [], maskedResponses: 0 };
  const settings = shapeSettings(stage, algo);
  for (const sg of groups) {
    const g = sg.group;
    out.rawRewards.push(...sg.results.map((r) => r.reward));
    out.correct += sg.results.filter((r) => r.correct).length;
    out.responses += g.responses.length;
    out.truncated += g.responses.filter((r) => r.finishReason === 'length').length;
    out.lengths.push(...g.responses.map((r) => r.tokens.length));
    out.entropies.push(...g.responses.map((r) => r.entropy));
    out.staleness.push(currentVersion - g.policyVersion);
    const shaped = shapeScored(sg, settings);
    if (!isInformative(shaped)) {
      out.zeroVarianceGroups++;
      if (stage.zeroVarianceFilter) continue;
    }
    if (out.used.length >= limit) continue;
    out.used.push(sg);
    g.responses.forEach((r, i) => {
      if (r.tokens.length === 0) return;
      const n = r.tokens.length;
      const tokens = new Uint32Array(g.promptTokens.length + n);
      tokens.set(g.promptTokens, 0);
      tokens.set(r.tokens, g.promptTokens.length);
      const mask = shaped.masks[i] ?? 1;
      if (mask === 0) out.maskedResponses++;
      out.sequences.push({
        tokens,
        responseStart: g.promptTokens.length,
        advantages: new Float32Array(n).fill(shaped.advantages[i] ?? 0),
        lossMask: new Float32Array(n).fill(mask),
        oldLogprobs: r.logprobs,
      });
    });
  }
  return out;
}
