/**
 * `acereason demo`: a local cluster (nats-server, learner, 2 actors, 2 verifiers) as processes,
 * running the `demo` recipe from the shipped SFT checkpoint (assets/demo-sft.safetensors, made by
 * `acereason sft`): math stages with growing length limits, then a code stage, with held-out math
 * and code evals before RL and at every stage boundary. Shows live progress, ends with a table of
 * math and code accuracy before RL, after the math stages and after the code stage, and writes
 * summary.json, metrics.jsonl (the learner's) and report.html under --out.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJsonLines, type Domain } from '@acereason/protocol';
import type { EvalTrigger, RunConfig, StepMetrics } from '@acereason/learner';
import { parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';
import type { EvalLine } from '../report/evals.js';

const USAGE = 'acereason demo [--out DIR] [--quick]';

/** The checkpoint the demo starts from: `acereason sft --out packages/cli/assets/demo-sft.safetensors` reproduces it. */
export const DEMO_CHECKPOINT = fileURLToPath(new URL('../../assets/demo-sft.safetensors', import.meta.url));

/** Checks the demo cannot run without beyond the doctor's required ones (the code stage). */
const DEMO_NEEDS: ReadonlySet<string> = new Set(['sandbox', 'python3']);

/** --quick: every stage runs, with few steps and small evals (a test-sized run). */
const QUICK = { stepsPerStage: 2, evalPrompts: 8, k: 2 };

/** What the progress lines show of a step. */
type Line = Pick<StepMetrics, 'step' | 'stage' | 'reward_mean' | 'accuracy' | 'response_len_mean' | 'step_s'>;

type Point = Record<'math' | 'code', number | null>;

export interface DemoSummary {
  stages: { name: string; domain: string; steps: number; eval_before: Point; eval_after: Point }[];
  math: { before: number | null; after_math: number | null; after_code: number | null };
  code: { before: number | null; after_math: number | null; after_code: number | null };
  wall_s: number;
}

/** The rows of a JSONL file the learner is still writing (for the live lines only: a line being written does not parse yet and waits for the next tick). */
function tailJsonl<T>(path: string): T[] {
  return existsSync(path) ? readJsonLines(readFileSync(path, 'utf8')).rows.map((r) => r.value as T) : [];
}

const pct = (v: number | null): string => (v === null ? '   -  ' : `${(v * 100).toFixed(1).padStart(5)}%`);

/**
 * The time left for the steps not run yet: each stage's at the recent pace (last 5 steps) of its
 * domain, since code steps cost far more than math steps. Steps of a domain that has not run yet
 * are counted, not guessed ("40s + 12 code steps"). Stage-boundary evals come on top.
 */
export function etaText(stages: readonly { name: string; domain: Domain; steps: number }[], lines: readonly { stage: string; step_s: number }[]): string {
  const domainOf = new Map(stages.map((s) => [s.name, s.domain]));
  const pace = new Map<string, number>();
  for (const d of ['math', 'code']) {
    const recent = lines.filter((l) => domainOf.get(l.stage) === d).slice(-5);
    if (recent.length > 0) pace.set(d, recent.reduce((a, l) => a + l.step_s, 0) / recent.length);
  }
  let seconds = 0;
  const unknown = new Map<string, number>();
  for (const s of stages) {
    const left = s.steps - lines.filter((l) => l.stage === s.name).length;
    if (left <= 0) continue;
    const p = pace.get(s.domain);
    if (p === undefined) unknown.set(s.domain, (unknown.get(s.domain) ?? 0) + left);
    else seconds += p * left;
  }
  return `${seconds.toFixed(0)}s${[...unknown].map(([d, n]) => ` + ${n} ${d} steps`).join('')}`;
}

function sameTrigger(a: EvalTrigger | undefined, b: EvalTrigger): boolean {
  if (a?.kind !== b.kind) return false;
  if (a.kind === 'stage-end') return b.kind === 'stage-end' && a.stage === b.stage;
  return true;
}

/** Builds summary.json from the compiled run's stages, the steps each ran and the learner's evals. */
export function summarize(config: Pick<RunConfig, 'stages' | 'datasets'>, metrics: readonly Record<string, unknown>[], evals: readonly EvalLine[], wallS: number): DemoSummary {
  const stages = config.stages;
  const point = (want: EvalTrigger): Point => {
    const p: Point = { math: null, code: null };
    for (const e of evals) {
      const domain = config.datasets[e.dataset]?.domain;
      if (domain && sameTrigger(e.trigger, want)) p[domain] = e.avgAtK;
    }
    return p;
  };
  const out: DemoSummary['stages'] = stages.map((s, i) => ({
    name: s.name,
    domain: s.domain,
    steps: metrics.filter((m) => m.stage === s.name).length,
    eval_before: point(i === 0 ? { kind: 'before-training' } : { kind: 'stage-end', stage: stages[i - 1]?.name ?? '' }),
    eval_after: point({ kind: 'stage-end', stage: s.name }),
  }));
  const before = point({ kind: 'before-training' });
  const lastMath = [...out].reverse().find((s) => s.domain === 'math');
  const lastCode = [...out].reverse().find((s) => s.domain === 'code');
  const afterMath = lastMath?.eval_after ?? { math: null, code: null };
  const afterCode = lastCode?.eval_after ?? { math: null, code: null };
  return {
    stages: out,
    math: { before: before.math, after_math: afterMath.math, after_code: afterCode.math },
    code: { before: before.code, after_math: afterMath.code, after_code: afterCode.code },
    wall_s: Math.round(wallS * 10) / 10,
  };
}

const demo: Command = {
  name: 'demo',
  summary: 'run a small staged RL job (math stages, then code) on a local cluster of processes and show its progress',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseFlags(args, { out: { type: 'string' }, quick: { type: 'boolean' } }, USAGE);
    // The doctor's checks first: the demo needs what any run needs, plus the code sandbox and
    // python3 for its code stage.
    const { runChecks, formatChecks } = await import('../local/doctor-checks.js');
    const checks = await runChecks();
    const needed = (c: { id: string; required: boolean }): boolean => c.required || DEMO_NEEDS.has(c.id);
    if (checks.some((c) => !c.ok && needed(c))) {
      ctx.stderr.write(`acereason demo: this machine is not ready (acereason doctor):\n${formatChecks(checks.filter((c) => !c.ok), needed)}`);
      ctx.stderr.write('Run the fix lines above (or `acereason doctor --fix`, which installs them on Debian/Ubuntu), then try again.\n');
      return 1;
    }
    if (!existsSync(DEMO_CHECKPOINT)) throw new UsageError(`the demo checkpoint is missing: ${DEMO_CHECKPOINT}`, 'recreate it with: acereason sft --out ' + DEMO_CHECKPOINT);
    const out = resolve(values.out ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-')));
    const earlier = ['metrics.jsonl', 'evals.jsonl', 'summary.json'].filter((f) => existsSync(join(out, f)));
    if (earlier.length > 0) throw new UsageError(`${out} already holds a run (${earlier.join(', ')})`, 'Pass another --out DIR (or leave it out for a new runs/<timestamp>), or remove that folder.');
    mkdirSync(out, { recursive: true });
    const quick = values.quick === true;
    const t0 = Date.now();

    const { compileDemoRun, demoRecipeStages, runDemoCluster } = await import('../local/demo-run.js');
    const run = {
      recipe: 'demo',
      run: { id: 'demo', seed: 1, out_dir: '.' },
      model: { init: DEMO_CHECKPOINT },
      stages: demoRecipeStages().map((s) => (quick ? { ...s, steps: QUICK.stepsPerStage } : s)),
      ...(quick ? { eval: { max_prompts: QUICK.evalPrompts, k: QUICK.k }, checkpoint: { every_steps: 100 } } : {}),
    };
    // The run as the learner compiles it: each stage's dataset, domain and steps resolved one way.
    const config = compileDemoRun(run, out);
    const total = config.stages.reduce((a, s) => a + s.steps, 0);
    const stagePlan = config.stages.map((s) => ({ name: s.name, domain: s.domain, steps: s.steps }));
    ctx.stdout.write(`acereason demo${quick ? ' --quick' : ''}: local cluster (nats-server, learner, 2 actors, 2 verifiers)\n`);
    ctx.stdout.write(`stages: ${stagePlan.map((s) => `${s.name} x ${s.steps}`).join(' -> ')}; held-out evals (${config.eval?.datasets.join(', ') ?? 'none'}) before RL and at each stage boundary\n`);
    ctx.stdout.write(`output: ${out}\n\n`);

    const metricsPath = join(out, 'metrics.jsonl');
    const evalsPath = join(out, 'evals.jsonl');
    let shownSteps = 0;
    let shownEvals = 0;
    const show = (): void => {
      const evals = tailJsonl<EvalLine>(evalsPath);
      for (const e of evals.slice(shownEvals)) ctx.stdout.write(`  eval (${e.reason}) ${e.dataset.padEnd(10)} avg@${e.k} ${pct(e.avgAtK)}  pass@${e.k} ${pct(e.passAtK)}  ${e.prompts} prompts${e.missing ? `, ${e.missing} missing` : ''}\n`);
      shownEvals = evals.length;
      const lines = tailJsonl<Line>(metricsPath);
      for (const [i, m] of lines.entries()) {
        if (i < shownSteps) continue;
        const done = m.step + 1;
        const eta = etaText(stagePlan, lines.slice(0, i + 1));
        ctx.stdout.write(`stage ${m.stage.padEnd(8)} step ${String(done).padStart(3)}/${total}  reward ${m.reward_mean.toFixed(3)}  acc ${m.accuracy.toFixed(3)}  len ${m.response_len_mean.toFixed(1).padStart(5)}  ${m.step_s.toFixed(1)}s/step  eta ${eta}\n`);
      }
      shownSteps = lines.length;
    };
    const code = await runDemoCluster({
      out, run, header: `written by acereason demo${quick ? ' --quick' : ''}`, onTick: show,
      onStarted: () => ctx.stdout.write('evaluating the SFT checkpoint before RL ...\n'),
    });
    const wall = (Date.now() - t0) / 1000;
    if (code !== 0) throw new Error(`the learner exited with code ${code}; see ${join(out, 'logs', 'learner.log')}`);

    // The finished files, read strictly: a bad line is an error naming it.
    const { parseMetricsJsonl, renderReport } = await import('../report/render.js');
    const { parseEvalsJsonl } = await import('../report/evals.js');
    const metrics = parseMetricsJsonl(existsSync(metricsPath) ? readFileSync(metricsPath, 'utf8') : '', metricsPath);
    const evals = parseEvalsJsonl(existsSync(evalsPath) ? readFileSync(evalsPath, 'utf8') : '', evalsPath);
    const summary = summarize(config, metrics, evals, wall);
    writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    writeFileSync(join(out, 'report.html'), renderReport(metrics, {
      title: `acereason demo${quick ? ' (quick)' : ''}`,
      evals,
      headline: {
        columns: ['before RL', 'after math', 'after code'],
        rows: (['math', 'code'] as const).map((d) => ({ name: `${d} (avg@k)`, values: [summary[d].before, summary[d].after_math, summary[d].after_code] })),
      },
    }));

    ctx.stdout.write(`\n                 before RL   after math   after code\n`);
    ctx.stdout.write(`math (avg@k)      ${pct(summary.math.before)}      ${pct(summary.math.after_math)}       ${pct(summary.math.after_code)}\n`);
    ctx.stdout.write(`code (avg@k)      ${pct(summary.code.before)}      ${pct(summary.code.after_math)}       ${pct(summary.code.after_code)}\n`);
    ctx.stdout.write(`\ndone in ${wall.toFixed(0)} s: ${join(out, 'summary.json')}, ${metricsPath}, ${join(out, 'report.html')} (logs in ${join(out, 'logs')})\n`);
    return 0;
  },
};
export default demo;
