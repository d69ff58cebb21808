/**
 * The paper findings `acereason ablate` checks, each as arms: edits of the demo recipe (its stages,
 * as written in the shipped YAML) plus the metric read from a finished arm's evals.jsonl. Arm runs
 * of a finding share a seed list; a finding compares its first arm against the others.
 */
import type { Expect } from './stats.js';
import type { RawStage } from '../local/demo-run.js';

export type { RawStage } from '../local/demo-run.js';

/** How big the arms are: `default` is sized for `ablate all` in ~45 min on a quiet 2-core machine (an estimate from measured runs, see the README); `quick` is test-sized. */
export interface Sizing {
  name: 'default' | 'quick';
  /** Math steps per arm (split over its math stages). */
  mathSteps: number;
  /** Code steps of the recipe run (the default: the demo's whole code stage, so code-only RL happens at all). */
  codeSteps: number;
  /** Held-out prompts per dataset (the default: the demo's 100, so a 3-point margin can be resolved; math evals are cheap, its short answers). */
  evalPrompts: number;
  k: number;
}

export const SIZINGS: Record<Sizing['name'], Sizing> = {
  default: { name: 'default', mathSteps: 10, codeSteps: 12, evalPrompts: 100, k: 4 },
  quick: { name: 'quick', mathSteps: 2, codeSteps: 1, evalPrompts: 8, k: 2 },
};

/** Which number an arm's seed contributes: a held-out eval, or a training metric averaged over the run's last steps. */
export type MetricRef =
  | { dataset: 'math_eval' | 'code_eval'; at: 'before-training' }
  | { dataset: 'math_eval' | 'code_eval'; at: 'end-of-stage'; stage: string }
  | { at: 'last-steps'; key: 'entropy_mean'; fraction: number; stages: string[] };

export interface ArmSpec {
  name: string;
  /** The stages of this arm's run, from the demo recipe's (math, then code). */
  stages: (demo: readonly RawStage[], s: Sizing) => RawStage[];
  /** Edits of the run's algorithm section (e.g. updates_per_batch). */
  algorithm?: Record<string, unknown>;
  /** Held-out evals of this arm's runs: none (its metric is a training one), math only (a math-only arm), or math and code (the recipe run). */
  evals: 'none' | 'math' | 'recipe';
  /** Train on the first `batch_prompts x math-32 steps` math prompts only (the first stage sees each once, so the later stage revisits them). */
  pool?: boolean;
  metric: MetricRef;
  /** The name of the metric in the JSON (e.g. "math avg@4 after math-64"). */
  metricName: (s: Sizing) => string;
}

export interface FindingSpec {
  name: string;
  claim: string;
  arms: ArmSpec[];
  expect: Expect;
  /** The arms read one run (before/after): its curves are drawn once. */
  sameRun: boolean;
  /** Count the prompts of this stage in each arm's runs (pool, eligible after the filters, filtered, draws). */
  countPrompts?: string;
  /** How its numbers read: accuracies (fractions, shown as %) or entropies (nats per token). */
  unit: 'accuracy' | 'nats';
}

const stage = (demo: readonly RawStage[], name: string): RawStage => {
  const s = demo.find((x) => x.name === name);
  if (!s) throw new Error(`the demo recipe has no stage ${name}`);
  return s;
};

/** The demo's two math stages, at this sizing (half the math steps each), first with the math dataset. */
function mathStages(demo: readonly RawStage[], s: Sizing, edit: (st: RawStage, i: number) => RawStage = (st) => st): RawStage[] {
  const m32 = stage(demo, 'math-32');
  const m64 = stage(demo, 'math-64');
  const half = Math.max(1, Math.floor(s.mathSteps / 2));
  return [edit({ ...m32, steps: half }, 0), edit({ ...m64, steps: Math.max(1, s.mathSteps - half) }, 1)];
}

/** The math prompts a pooled arm trains on: what its first stage draws (batch_prompts x steps), so the first stage sees each once. */
export function firstStagePool(demo: readonly RawStage[], s: Sizing): number {
  const [first] = mathStages(demo, s);
  const batch = first?.batch_prompts;
  if (typeof batch !== 'number' || !first) throw new Error('the demo recipe\'s math-32 stage has no batch_prompts');
  return batch * first.steps;
}

const codeStage = (demo: readonly RawStage[], s: Sizing): RawStage => ({ ...stage(demo, 'code-128'), steps: s.codeSteps });
/** The demo recipe at this sizing (the math stages, then its code stage as written: lr, reset_optimizer): arms that change nothing read this one run. */
const recipe = (demo: readonly RawStage[], s: Sizing): RawStage[] => [...mathStages(demo, s), codeStage(demo, s)];
const math = (stageName: string): MetricRef => ({ dataset: 'math_eval', at: 'end-of-stage', stage: stageName });
const avg = (what: string) => (s: Sizing): string => `${what} avg@${s.k}`;
const dropFilter = (st: RawStage): RawStage => Object.fromEntries(Object.entries(st).filter(([k]) => k !== 'filter')) as RawStage;

/** The paper's filter (keep pass rate <= 6/16, i.e. drop prompts solved in more than 6 of 16 rollouts) before the later math stage. */
export const PAPER_MAX_PASS_RATE = 6 / 16;

export const FINDINGS: FindingSpec[] = [
  {
    name: 'on-policy',
    claim: 'one update per batch keeps entropy up where 2 or 4 updates per batch (the same rollouts reused, ratios clipped against the generating policy) collapse it',
    // 1 update reads the math-only run of curriculum/short-first (evals do not change training); 2 and 4 need no evals.
    arms: [1, 2, 4].map((n): ArmSpec => ({
      name: `${n}-update${n > 1 ? 's' : ''}`, ...(n === 1 ? { stages: (d, s) => mathStages(d, s), evals: 'math' } : { stages: (d, s) => mathStages(d, s), algorithm: { updates_per_batch: n }, evals: 'none' }),
      metric: { at: 'last-steps', key: 'entropy_mean', fraction: 0.25, stages: ['math-32', 'math-64'] }, metricName: () => 'rollout entropy (nats/token), mean over the last quarter of the math steps',
    })),
    expect: { kind: 'greater' },
    sameRun: false,
    unit: 'nats',
  },
  {
    name: 'curriculum',
    claim: 'a short-first length schedule (32 then 64 tokens) beats starting at the longest limit (64 throughout) for the same steps and batch',
    arms: [
      { name: 'short-first', stages: (d, s) => mathStages(d, s), evals: 'math', metric: math('math-64'), metricName: avg('math after the math stages') },
      { name: 'longest-only', stages: (d, s) => mathStages(d, s, (st, i) => (i === 0 ? { ...st, max_response_tokens: 64 } : st)), evals: 'math', metric: math('math-64'), metricName: avg('math after the math stages') },
    ],
    expect: { kind: 'greater' },
    sameRun: false,
    unit: 'accuracy',
  },
  {
    name: 'math-to-code',
    claim: 'math-only RL lifts held-out code accuracy',
    arms: [
      { name: 'after-math', stages: recipe, evals: 'recipe', metric: { dataset: 'code_eval', at: 'end-of-stage', stage: 'math-64' }, metricName: avg('code') },
      { name: 'before-rl', stages: recipe, evals: 'recipe', metric: { dataset: 'code_eval', at: 'before-training' }, metricName: avg('code') },
    ],
    expect: { kind: 'greater' },
    sameRun: true,
    unit: 'accuracy',
  },
  {
    name: 'code-keeps-math',
    claim: 'code-only RL after math (the demo\'s code stage: fresh optimizer, lr 2.5e-4) leaves math within 3 points',
    arms: [
      { name: 'after-code', stages: recipe, evals: 'recipe', metric: math('code-128'), metricName: avg('math') },
      { name: 'after-math', stages: recipe, evals: 'recipe', metric: math('math-64'), metricName: avg('math') },
    ],
    expect: { kind: 'within', margin: 0.03 },
    sameRun: true,
    unit: 'accuracy',
  },
  {
    name: 'temperature',
    claim: 'a training temperature holding temperature-adjusted entropy near the target beats a too-low (0.6) and a too-high (1.4) fixed temperature',
    arms: [
      { name: 'entropy-target', stages: (d, s) => mathStages(d, s, (st, i) => (i === 0 ? { ...st, temperature: { target_entropy: 0.1, initial: 1.0, min: 0.6, max: 1.4 } } : st)), evals: 'math', metric: math('math-64'), metricName: avg('math') },
      { name: 'fixed-0.6', stages: (d, s) => mathStages(d, s, (st, i) => (i === 0 ? { ...st, temperature: 0.6 } : st)), evals: 'math', metric: math('math-64'), metricName: avg('math') },
      { name: 'fixed-1.4', stages: (d, s) => mathStages(d, s, (st, i) => (i === 0 ? { ...st, temperature: 1.4 } : st)), evals: 'math', metric: math('math-64'), metricName: avg('math') },
    ],
    expect: { kind: 'greater' },
    sameRun: false,
    unit: 'accuracy',
  },
  {
    name: 'pass-rate-filter',
    claim: 'dropping prompts solved in most rollouts before the later stage helps (the paper\'s filter: keep pass rate <= 6/16; here on a pool the first stage sees once, so the later stage revisits it)',
    arms: [
      { name: 'filtered', stages: (d, s) => mathStages(d, s, (st, i) => (i === 1 ? { ...dropFilter(st), filter: { max_pass_rate: PAPER_MAX_PASS_RATE } } : st)), pool: true, evals: 'math', metric: math('math-64'), metricName: avg('math') },
      { name: 'unfiltered', stages: (d, s) => mathStages(d, s, (st, i) => (i === 1 ? dropFilter(st) : st)), pool: true, evals: 'math', metric: math('math-64'), metricName: avg('math') },
    ],
    expect: { kind: 'greater' },
    sameRun: false,
    countPrompts: 'math-64',
    unit: 'accuracy',
  },
];

export function findFinding(name: string): FindingSpec | undefined {
  return FINDINGS.find((f) => f.name === name);
}
