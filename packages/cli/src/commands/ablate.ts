/**
 * `acereason ablate <finding | all> [--seeds N] [--json] [--out DIR] [--quick]`: reruns the
 * paper's ablations on the demo model and data. Each arm is a real run of an edit of the demo
 * recipe through a local cluster (learner, 2 actors, 2 verifiers; the demo's launcher), at least 3
 * seeds per arm, runs interleaved seed by seed. Writes ablate.json and report.html under --out.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { numberFlag, parseFlags } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { FINDINGS, SIZINGS, findFinding, firstStagePool, type FindingSpec, type MetricRef } from '../ablate/findings.js';
import type { ArmRunData } from '../ablate/report.js';
import { armRunFile, planRuns, poolFile, type Reader } from '../ablate/runs.js';
import { findingResult, formatValue, readMetric, stagePromptCounts, type FindingResult, type StagePrompts } from '../ablate/results.js';
import { DEMO_CHECKPOINT } from './demo.js';

const USAGE = 'acereason ablate <finding | all> [--seeds N] [--json] [--out DIR] [--quick]';
const MIN_SEEDS = 3;

/** The held-out dataset an arm's metric reads (undefined for a training metric). */
const datasetOf = (m: MetricRef | undefined): string | undefined => (m && 'dataset' in m ? m.dataset : undefined);

const readText = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');

/** A pooled run's math prompts: the first `n` of the demo's math split (written in `dir` before its cluster starts). */
function writePool(dir: string, n: number): void {
  const lines = readText(join(dir, 'math-train.jsonl')).split('\n').filter((l) => l.trim() !== '');
  if (lines.length < n) throw new Error(`${join(dir, 'math-train.jsonl')}: ${lines.length} prompts, fewer than the pool of ${n}`);
  writeFileSync(join(dir, poolFile(n)), lines.slice(0, n).join('\n') + '\n');
}

const ablate: Command = {
  name: 'ablate',
  summary: 'rerun the paper\'s ablations (on-policy, curriculum, math-to-code, code-keeps-math, temperature, pass-rate-filter) on the demo model',
  usage: USAGE,
  async run(args, ctx) {
    const { values, positionals } = parseFlags(args, { seeds: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string' }, quick: { type: 'boolean' } }, USAGE);
    const which = positionals[0];
    const names = FINDINGS.map((f) => f.name);
    if (which === undefined || positionals.length > 1) throw new UsageError('name one finding or all', `findings: ${names.join(', ')}; usage: ${USAGE}`);
    const quick = values.quick === true;
    const seedsN = numberFlag('--seeds', values.seeds, { integer: true, min: 1, max: 20 }, USAGE) ?? MIN_SEEDS;
    if (seedsN < MIN_SEEDS && !quick) throw new UsageError(`--seeds: at least ${MIN_SEEDS} seeds per arm (got ${seedsN})`, 'Fewer seeds give no spread to test an effect against; --quick allows 1 for a smoke run.');
    let findings: FindingSpec[];
    if (which === 'all') {
      findings = FINDINGS;
    } else {
      const f = findFinding(which);
      if (!f) throw new UsageError(`unknown finding "${which}"`, `findings: ${names.join(', ')}, or all`);
      findings = [f];
    }
    if (!existsSync(DEMO_CHECKPOINT)) throw new UsageError(`the demo checkpoint is missing: ${DEMO_CHECKPOINT}`, 'recreate it with: acereason sft --out ' + DEMO_CHECKPOINT);
    const out = resolve(values.out ?? join('runs', `ablate-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    if (existsSync(join(out, 'ablate.json'))) throw new UsageError(`${out} already holds an ablation (ablate.json)`, 'Pass another --out DIR, or remove that folder.');
    const sizing = quick ? SIZINGS.quick : SIZINGS.default;
    const seeds = Array.from({ length: seedsN }, (_, i) => i + 1);
    const { demoRecipeStages, runDemoCluster } = await import('../local/demo-run.js');
    const demo = demoRecipeStages();
    const plan = planRuns(findings, seeds, (arm, seed) => armRunFile(arm, demo, sizing, seed, DEMO_CHECKPOINT), firstStagePool(demo, sizing));
    const log = values.json === true ? ctx.stderr : ctx.stdout;
    const armRuns = findings.reduce((n, f) => n + f.arms.length, 0) * seeds.length;
    log.write(`acereason ablate ${which}${quick ? ' --quick' : ''}: ${plan.length} runs for ${armRuns} arm-seeds (${findings.map((f) => f.name).join(', ')}; seeds ${seeds.join(', ')}), interleaved seed by seed; output ${out}\n`);

    const { parseMetricsJsonl } = await import('../report/render.js');
    const { parseEvalsJsonl } = await import('../report/evals.js');
    const done: (Omit<ArmRunData, 'arm'> & { readers: Reader[]; dir: string; learnerLog: string })[] = [];
    const armName = (r: Reader): string => findings.find((f) => f.name === r.finding)?.arms[r.arm]?.name ?? '?';
    for (const [i, r] of plan.entries()) {
      const dir = join(out, r.dir);
      const what = r.readers.map((x) => `${x.finding} ${armName(x)}`).join(', ');
      mkdirSync(dir, { recursive: true });
      const t0 = Date.now();
      const pool = r.pool;
      const prepare = pool === undefined ? undefined : (): void => writePool(dir, pool);
      const code = await runDemoCluster({ out: dir, header: `written by acereason ablate (seed ${r.seed}; read by ${what})`, run: r.run, ...(prepare ? { prepare } : {}) });
      if (code !== 0) throw new Error(`${r.dir}: the learner exited with code ${code}; see ${join(dir, 'logs', 'learner.log')}`);
      const metrics = parseMetricsJsonl(readText(join(dir, 'metrics.jsonl')), join(dir, 'metrics.jsonl'));
      const evals = parseEvalsJsonl(readText(join(dir, 'evals.jsonl')), join(dir, 'evals.jsonl'));
      done.push({ readers: r.readers, dir, seed: r.seed, metrics, evals, learnerLog: readText(join(dir, 'logs', 'learner.log')) });
      log.write(`  [${i + 1}/${plan.length}] seed ${r.seed} (${what}): ${metrics.length} steps, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    }

    const results: { result: FindingResult; runs: ArmRunData[]; evalDataset: string | undefined }[] = findings.map((f) => {
      const runOf = (ai: number, s: number): (typeof done)[number] => {
        const run = done.find((d) => d.seed === s && d.readers.some((x) => x.finding === f.name && x.arm === ai));
        if (!run) throw new Error(`internal: no run of ${f.name} arm ${ai} seed ${s}`);
        return run;
      };
      const perArm = f.arms.map((a, ai) => seeds.map((s) => { const run = runOf(ai, s); return readMetric(run, a.metric, run.dir); }));
      const stage = f.countPrompts;
      const prompts = stage === undefined ? [] : f.arms.map((_, ai): StagePrompts => {
        const c = seeds.map((s) => { const run = runOf(ai, s); return stagePromptCounts(run.learnerLog, run.metrics, stage, run.dir); });
        return { stage, pool: c.map((x) => x.pool), eligible: c.map((x) => x.eligible), filtered: c.map((x) => x.filtered), draws: c.map((x) => x.draws) };
      });
      // The curves: one per arm and seed (arms reading one run are drawn once, under the first arm).
      const curveArms = f.sameRun ? [0] : f.arms.map((_, ai) => ai);
      const runs = curveArms.flatMap((ai) => seeds.map((s) => ({ ...runOf(ai, s), arm: f.arms[ai]?.name ?? '' })));
      return { result: findingResult(f, sizing, seeds, perArm, prompts), runs, evalDataset: datasetOf(f.arms[0]?.metric) };
    });
    const json = { findings: results.map((r) => r.result), sizing };
    writeFileSync(join(out, 'ablate.json'), JSON.stringify(json, null, 2) + '\n');
    const { renderAblationReport } = await import('../ablate/report.js');
    writeFileSync(join(out, 'report.html'), renderAblationReport(results));
    if (values.json === true) {
      ctx.stdout.write(JSON.stringify(json) + '\n');
    } else {
      for (const r of json.findings) {
        const v = (x: number): string => formatValue(r.unit, x);
        const unit = r.unit === 'nats' ? ' nats' : ' points';
        ctx.stdout.write(`\n${r.name}: ${r.reproduced ? 'reproduced' : 'not reproduced'} (effect vs ${r.vs} ${v(r.effect)}${unit}, noise ${r.noise === null ? '-' : v(r.noise)}; ${r.test})\n`);
        for (const a of r.arms) {
          ctx.stdout.write(`  ${a.name.padEnd(16)} ${a.metric}: ${v(a.mean)}${r.unit === 'nats' ? '' : '%'} +- ${v(a.std)} (${a.per_seed.map(v).join(', ')})\n`);
          if (a.prompts) ctx.stdout.write(`  ${''.padEnd(16)} ${a.prompts.stage}: pool ${a.prompts.pool.join('/')}, filtered ${a.prompts.filtered.join('/')}, eligible ${a.prompts.eligible.join('/')}, draws ${a.prompts.draws.join('/')} (per seed)\n`);
        }
      }
      ctx.stdout.write(`\n${join(out, 'ablate.json')}, ${join(out, 'report.html')}\n`);
    }
    return 0;
  },
};
export default ablate;
