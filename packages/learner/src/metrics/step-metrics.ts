/** The figures of one step, as written to metrics.jsonl, Prometheus and the control stream. */
import type { ScoredGroup } from '@acereason/protocol';
import type { TrainStepResult } from '@acereason/policy';
import type { BuiltBatch } from '../loop/batch.js';

export interface StepMetrics {
  step: number;
  stage: string;
  stage_index: number;
  stage_step: number;
  policy_version: number;
  time_ms: number;
  reward_mean: number;
  accuracy: number;
  zero_variance_frac: number;
  groups: number;
  groups_used: number;
  response_len_mean: number;
  response_len_p95: number;
  response_len_max: number;
  truncation_rate: number;
  entropy_mean: number;
  temperature: number;
  prompts_eligible: number;
  loss: number;
  grad_norm: number;
  /** Share of loss-weighted tokens whose importance ratio was clipped (0 when strictly on-policy). */
  clip_fraction: number;
  learning_rate: number;
  train_tokens: number;
  tokens_per_s: number;
  step_s: number;
  wait_rollouts_s: number;
  verify_s: number;
  train_s: number;
  publish_s: number;
  staleness_mean: number;
  staleness_max: number;
  /** Groups collected, by staleness (policy versions behind the trained version). */
  staleness_counts: Record<string, number>;
  /** The staleness of each group collected, in slot order. */
  group_staleness: number[];
  rejected_groups: number;
  duplicate_groups: number;
  reissued_tasks: number;
  actors: number;
  verifiers: number;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? 0;
}

export const mean = (values: readonly number[]): number => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);

export interface StepFacts {
  step: number;
  stage: string;
  stageIndex: number;
  stageStep: number;
  /** The version the step produced (trained from version - 1). */
  version: number;
  temperature: number;
  promptsEligible: number;
  /** Every group collected for the step, in slot order. */
  groups: readonly ScoredGroup[];
  batch: BuiltBatch;
  train: Pick<TrainStepResult, 'loss' | 'gradNorm' | 'learningRate' | 'tokens' | 'clipFraction'>;
  /** performance.now() marks: step start, all groups in, trained, new version published. */
  marks: { start: number; collected: number; trained: number; published: number };
  publishS: number;
  counts: { rejected: number; duplicates: number; reissued: number };
  workers: { actors: number; verifiers: number };
  timeMs: number;
}

/** The metrics of a step from what happened in it (pure: no clock, no I/O). */
export function stepMetrics(f: StepFacts): StepMetrics {
  const b = f.batch;
  const seconds = (from: number, to: number): number => (to - from) / 1000;
  return {
    step: f.step, stage: f.stage, stage_index: f.stageIndex, stage_step: f.stageStep, policy_version: f.version, time_ms: f.timeMs,
    reward_mean: mean(b.rawRewards), accuracy: b.responses ? b.correct / b.responses : 0,
    zero_variance_frac: f.groups.length ? b.zeroVarianceGroups / f.groups.length : 0, groups: f.groups.length, groups_used: b.used.length,
    response_len_mean: mean(b.lengths), response_len_p95: percentile(b.lengths, 0.95), response_len_max: b.lengths.reduce((a, x) => Math.max(a, x), 0),
    truncation_rate: b.responses ? b.truncated / b.responses : 0, entropy_mean: mean(b.entropies),
    temperature: f.temperature, prompts_eligible: f.promptsEligible,
    loss: f.train.loss, grad_norm: f.train.gradNorm, clip_fraction: f.train.clipFraction, learning_rate: f.train.learningRate, train_tokens: f.train.tokens,
    tokens_per_s: b.lengths.reduce((a, x) => a + x, 0) / Math.max(1e-9, seconds(f.marks.start, f.marks.collected)),
    step_s: seconds(f.marks.start, f.marks.published), wait_rollouts_s: seconds(f.marks.start, f.marks.collected),
    verify_s: mean(f.groups.map((g) => g.verifyMs)) / 1000, train_s: seconds(f.marks.collected, f.marks.trained), publish_s: f.publishS,
    staleness_mean: mean(b.staleness), staleness_max: b.staleness.reduce((a, x) => Math.max(a, x), 0),
    staleness_counts: b.staleness.reduce<Record<string, number>>((acc, x) => ({ ...acc, [x]: (acc[x] ?? 0) + 1 }), {}),
    group_staleness: [...b.staleness],
    rejected_groups: f.counts.rejected, duplicate_groups: f.counts.duplicates, reissued_tasks: f.counts.reissued,
    actors: f.workers.actors, verifiers: f.workers.verifiers,
  };
}
