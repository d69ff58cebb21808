/**
 * From a step's scored groups to the policy's TrainBatch: rewards shaped by the stage's over-long
 * policy, GRPO advantages per group, zero-variance groups filtered, per-token advantage, loss mask
 * and behaviour logprobs (for importance ratios in async mode).
 */
import type { ScoredGroup } from '@acereason/protocol';
import type { TrainSequence } from '@acereason/policy';
import type { AlgorithmConfig, StageConfig } from '../config/run-config.js';
import { shapeGroup } from './advantages.js';

export interface BuiltBatch {
  sequences: TrainSequence[];
  /** Groups that entered the batch (informative ones). */
  used: ScoredGroup[];
  zeroVarianceGroups: number;
  /** Raw reward of every response of every group (before shaping), for metrics. */
  rawRewards: number[];
  correct: number;
  responses: number;
  truncated: number;
  lengths: number[];
  entropies: number[];
  staleness: number[];
  maskedResponses: number;
}

export function buildBatch(groups: readonly ScoredGroup[], stage: StageConfig, algo: AlgorithmConfig, currentVersion: number): BuiltBatch {
  const out: BuiltBatch = { sequences: [], used: [], zeroVarianceGroups: 0, rawRewards: [], correct: 0, responses: 0, truncated: 0, lengths: [], entropies: [], staleness: [], maskedResponses: 0 };
  for (const sg of groups) {
    const g = sg.group;
    const raw = sg.results.map((r) => r.reward);
    const truncated = g.responses.map((r) => r.finishReason === 'length');
    const lengths = g.responses.map((r) => r.tokens.length);
    out.rawRewards.push(...raw);
    out.correct += sg.results.filter((r) => r.correct).length;
    out.responses += g.responses.length;
    out.truncated += truncated.filter(Boolean).length;
    out.lengths.push(...lengths);
    out.entropies.push(...g.responses.map((r) => r.entropy));
    out.staleness.push(currentVersion - g.policyVersion);
    const shaped = shapeGroup(raw, truncated, lengths, { overlong: stage.overlong, maxResponseTokens: stage.maxResponseTokens, overlongPenaltyTokens: stage.overlongPenaltyTokens, advantage: algo.advantage, eps: algo.advantageEps });
    if (shaped.zeroVariance) {
      out.zeroVarianceGroups++;
      if (stage.zeroVarianceFilter) continue;
    }
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
