/**
 * Held-out evaluation through the cluster: the learner publishes eval tasks (k samples per prompt
 * at evaluation sampling settings) that actors generate and verifiers score like any other task;
 * they are never trained on. avg@k is the mean pass@1 over the k samples; pass@k uses the
 * unbiased estimator 1 - C(n-c, k) / C(n, k).
 */
import { ValidationError } from '@acereason/protocol';

export interface EvalConfig {
  datasets: string[];
  /** Evaluate every this many steps (0 = only at stage boundaries). */
  everySteps: number;
  atStageBoundaries: boolean;
  k: number;
  temperature: number;
  topP: number;
  /** 0 = the current stage's limit. */
  maxResponseTokens: number;
  /** At most this many prompts per dataset (0 = all). */
  maxPrompts: number;
  timeoutMs: number;
}

/** Why an evaluation ran. evals.jsonl carries it as `trigger` beside the human `reason` text. */
export type EvalTrigger =
  | { kind: 'before-training' }
  | { kind: 'periodic'; everySteps: number }
  | { kind: 'stage-end'; stage: string };

export function describeTrigger(t: EvalTrigger): string {
  switch (t.kind) {
    case 'before-training': return 'before training';
    case 'periodic': return `every ${t.everySteps} steps`;
    case 'stage-end': return `end of stage ${t.stage}`;
  }
}

export interface EvalResult {
  dataset: string;
  step: number;
  stage: string;
  policyVersion: number;
  prompts: number;
  k: number;
  avgAtK: number;
  passAtK: number;
  /** Prompts whose groups did not come back in time. */
  missing: number;
}

/** One line of evals.jsonl: a result, why the evaluation ran, and how long it took. */
export interface EvalRecord extends EvalResult {
  reason: string;
  trigger: EvalTrigger;
  seconds: number;
}

/**
 * Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k), as a stable product
 * (Chen et al. 2021). k > n has no unbiased estimate and is refused.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!(k >= 1 && k <= n)) throw new ValidationError('k', `pass@k needs 1 <= k <= n (k=${k}, n=${n})`);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

export function summarizeEval(perPrompt: { n: number; c: number }[], k: number): { avgAtK: number; passAtK: number } {
  if (perPrompt.length === 0) return { avgAtK: 0, passAtK: 0 };
  const avg = perPrompt.reduce((a, p) => a + p.c / Math.max(1, p.n), 0) / perPrompt.length;
  const pk = perPrompt.reduce((a, p) => a + passAtK(p.n, p.c, Math.min(k, p.n)), 0) / perPrompt.length;
  return { avgAtK: avg, passAtK: pk };
}

export interface PlateauConfig {
  /** The eval dataset whose avg@k is watched. */
  dataset: string;
  patience: number;
  minDelta: number;
}

/** True when the last `patience` evaluations did not beat the best earlier one by `minDelta`. */
export function plateaued(history: readonly number[], p: PlateauConfig): boolean {
  if (history.length <= p.patience) return false;
  const before = Math.max(...history.slice(0, history.length - p.patience));
  const recent = Math.max(...history.slice(history.length - p.patience));
  return recent < before + p.minDelta;
}
