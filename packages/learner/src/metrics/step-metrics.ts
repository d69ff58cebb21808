/** The figures of one step, as written to metrics.jsonl, Prometheus and the control stream. */
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
  /** Groups trained on, by staleness (policy versions behind): the staleness of every sample. */
  staleness_counts: Record<string, number>;
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
