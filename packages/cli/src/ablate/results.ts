/**
 * From finished arm runs to the finding's JSON: each arm's metric per seed, mean and std, the
 * effect (first arm minus the best other arm, or minus the only other one) and its noise, and
 * whether the paper's direction holds beyond the seeds' spread (see stats.ts).
 */
import type { EvalLine } from '../report/evals.js';
import type { MetricsLine } from '../report/render.js';
import type { FindingSpec, MetricRef, Sizing } from './findings.js';
import { SIGMAS, mean, reproduced, std, stdErrPaired } from './stats.js';

/** A stage's prompts in one arm's runs, per seed (from the learner's stage plan and its steps). */
export interface StagePrompts {
  stage: string;
  /** Prompts of the stage's dataset. */
  pool: number[];
  /** Left after the stage's filters: what the stage drew from. */
  eligible: number[];
  /** Dropped by the filters (too easy or never solved). */
  filtered: number[];
  /** Prompts drawn over the stage's steps (groups). */
  draws: number[];
}

export interface ArmResult { name: string; metric: string; mean: number; std: number; per_seed: number[]; prompts?: StagePrompts }

export interface FindingResult {
  name: string;
  /** accuracy: values are fractions (0.05 = 5 points); nats: entropies per token. */
  unit: FindingSpec['unit'];
  claim: string;
  seeds: number[];
  arms: ArmResult[];
  /** The arm the effect is against: the strongest other arm (by mean). */
  vs: string;
  /** First arm's mean minus that arm's (in the unit: 0.05 = 5 points of accuracy), the mean of the per-seed differences. */
  effect: number;
  /** The standard error of the mean per-seed difference (null with one seed). */
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

/** One run's counts of a stage's prompts: the learner's `stage planned` log line (pool, eligible, dropped) and the stage's groups in metrics.jsonl; an error naming the run when missing. */
export function stagePromptCounts(learnerLog: string, metrics: readonly MetricsLine[], stage: string, where: string): { pool: number; eligible: number; filtered: number; draws: number } {
  const plan = learnerLog.split('\n').flatMap((l) => {
    if (!l.includes('"stage planned"')) return [];
    try { return [JSON.parse(l) as { stage?: unknown; prompts?: unknown; eligible?: unknown; dropped?: Record<string, unknown> }]; } catch { return []; }
  }).filter((x) => x.stage === stage).at(-1);
  if (!plan || typeof plan.prompts !== 'number' || typeof plan.eligible !== 'number') throw new Error(`${where}: no "stage planned" line of stage ${stage} in logs/learner.log`);
  const dropped = Object.values(plan.dropped ?? {}).reduce((a: number, v) => a + (typeof v === 'number' ? v : 0), 0);
  const draws = metrics.filter((m) => m.stage === stage).reduce((a, m) => a + (typeof m.groups === 'number' ? m.groups : 0), 0);
  return { pool: plan.prompts, eligible: plan.eligible, filtered: dropped, draws };
}

/** A value as the finding's unit reads: points (accuracy x 100) or nats. */
export function formatValue(unit: FindingSpec['unit'], v: number): string {
  return unit === 'nats' ? v.toFixed(4) : (v * 100).toFixed(1);
}

export function testText(f: FindingSpec): string {
  const paired = 'paired by seed: d = first arm - other arm per seed, effect = mean(d), noise = std(d)/sqrt(seeds)';
  return f.expect.kind === 'greater'
    ? `${paired}; reproduced when effect > ${SIGMAS} x noise against every other arm`
    : `${paired}; reproduced when |effect| + ${SIGMAS} x noise <= ${f.expect.margin}`;
}

export function findingResult(f: FindingSpec, sizing: Sizing, seeds: number[], perArm: number[][], prompts: (StagePrompts | undefined)[] = []): FindingResult {
  const arms: ArmResult[] = f.arms.map((a, i) => {
    const xs = perArm[i] ?? [];
    const p = prompts[i];
    return { name: a.name, metric: a.metricName(sizing), mean: mean(xs), std: std(xs), per_seed: xs, ...(p ? { prompts: p } : {}) };
  });
  const first = perArm[0] ?? [];
  const against = (i: number): { effect: number; noise: number | null } => ({ effect: mean(first) - mean(perArm[i] ?? []), noise: stdErrPaired(first, perArm[i] ?? []) });
  // "beats a too-low and a too-high" must beat both: the test holds against every other arm; the effect shown is against the strongest
  let other = 1;
  for (let i = 2; i < arms.length; i++) if ((arms[i]?.mean ?? -Infinity) > (arms[other]?.mean ?? -Infinity)) other = i;
  const { effect, noise } = against(other);
  const all = arms.slice(1).every((_, j) => { const r = against(j + 1); return reproduced(r.effect, r.noise, f.expect); });
  return { name: f.name, unit: f.unit, claim: f.claim, seeds, arms, vs: arms[other]?.name ?? '', effect, noise, reproduced: all, test: testText(f) };
}
