/**
 * From finished arm runs to the finding's JSON: each arm's metric per seed, mean and std, the
 * effect (first arm minus the best other arm, or minus the only other one) and its noise, and
 * whether the paper's direction holds beyond the seeds' spread (see stats.ts).
 */
import type { EvalLine } from '../report/evals.js';
import type { MetricsLine } from '../report/render.js';
import type { FindingSpec, MetricRef, Sizing } from './findings.js';
import { mean, reproduced, std, stdErrDiff, stdErrPaired } from './stats.js';

export interface ArmResult { name: string; metric: string; mean: number; std: number; per_seed: number[] }

export interface FindingResult {
  name: string;
  /** accuracy: values are fractions (0.05 = 5 points); nats: entropies per token. */
  unit: FindingSpec['unit'];
  claim: string;
  seeds: number[];
  arms: ArmResult[];
  /** First arm's mean minus the strongest other arm's (in the unit: 0.05 = 5 points of accuracy). */
  effect: number;
  /** The standard error of that difference (null with one seed). */
  noise: number | null;
  reproduced: boolean;
  test: string;
}

/** The value of a metric in one run's evals or metrics; an error naming the run when it is missing. */
export function readMetric(run: { evals: readonly EvalLine[]; metrics: readonly MetricsLine[] }, ref: MetricRef, where: string): number {
  if (ref.at === 'last-steps') {
    const values = run.metrics.filter((m) => ref.stages.includes(String(m.stage))).map((m) => m[ref.key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (values.length === 0) throw new Error(`${where}: no ${ref.key} of stages ${ref.stages.join(', ')} in metrics.jsonl`);
    const tail = values.slice(values.length - Math.max(1, Math.round(values.length * ref.fraction)));
    return mean(tail);
  }
  const hit = run.evals.filter((e) => e.dataset === ref.dataset && (ref.at === 'before-training' ? e.trigger?.kind === 'before-training' : e.trigger?.kind === 'stage-end' && e.trigger.stage === ref.stage));
  const last = hit[hit.length - 1];
  if (!last) throw new Error(`${where}: no ${ref.dataset} eval ${ref.at === 'before-training' ? 'before training' : `at the end of ${ref.stage}`} in evals.jsonl`);
  return last.avgAtK;
}

/** A value as the finding's unit reads: points (accuracy x 100) or nats. */
export function formatValue(unit: FindingSpec['unit'], v: number): string {
  return unit === 'nats' ? v.toFixed(4) : (v * 100).toFixed(1);
}

export function testText(f: FindingSpec): string {
  const se = f.paired ? 'std-err of the paired per-seed difference' : 'Welch std-err sqrt(s1^2/n1 + s2^2/n2)';
  return f.expect.kind === 'greater'
    ? `effect > 0 and effect > 2 x noise (noise = ${se})`
    : `|effect| + 2 x noise <= ${f.expect.margin} (noise = ${se})`;
}

export function findingResult(f: FindingSpec, sizing: Sizing, seeds: number[], perArm: number[][]): FindingResult {
  const arms: ArmResult[] = f.arms.map((a, i) => {
    const xs = perArm[i] ?? [];
    return { name: a.name, metric: a.metricName(sizing), mean: mean(xs), std: std(xs), per_seed: xs };
  });
  const first = perArm[0] ?? [];
  // against the strongest other arm: "beats a too-low and a too-high" must beat both
  let other = 1;
  for (let i = 2; i < arms.length; i++) if ((arms[i]?.mean ?? -Infinity) > (arms[other]?.mean ?? -Infinity)) other = i;
  const second = perArm[other] ?? [];
  const effect = mean(first) - mean(second);
  const noise = f.paired ? stdErrPaired(first, second) : stdErrDiff(first, second);
  return { name: f.name, unit: f.unit, claim: f.claim, seeds, arms, effect, noise, reproduced: reproduced(effect, noise, f.expect), test: testText(f) };
}
