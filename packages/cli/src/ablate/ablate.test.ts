import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { writeDemoSplits } from '@acereason/curate';
import { loadRunConfig } from '@acereason/learner';
import { FINDINGS, SIZINGS, findFinding } from './findings.js';
import { demoRecipeStages } from '../local/demo-run.js';
import { findingResult, readMetric, stagePromptCounts, type StagePrompts } from './results.js';
import { renderAblationReport } from './report.js';
import { armRunFile, planRuns } from './runs.js';
import { reproduced, std, stdErrPaired } from './stats.js';

const demoStages = demoRecipeStages;

test('the noise is the std-err of the per-seed paired difference, and reproduced needs the direction beyond 2 of it', () => {
  assert.ok(Math.abs(std([1, 2, 3]) - 1) < 1e-12);
  assert.ok(Math.abs((stdErrPaired([3, 5, 4], [1, 2, 3]) ?? NaN) - 1 / Math.sqrt(3)) < 1e-12, 'd = 2, 3, 1: std 1 over sqrt(3)');
  assert.equal(stdErrPaired([1], [2]), null, 'one seed: no spread');
  assert.equal(stdErrPaired([2, 3, 4], [1, 2, 3]), 0, 'a constant paired difference has no noise');
  assert.throws(() => stdErrPaired([1, 2], [1]), /same seeds/);
  assert.equal(reproduced(0.05, 0.02, { kind: 'greater' }), true);
  assert.equal(reproduced(0.05, 0.03, { kind: 'greater' }), false, 'inside 2 std-errs');
  assert.equal(reproduced(-0.05, 0, { kind: 'greater' }), false, 'the wrong direction');
  assert.equal(reproduced(0.05, null, { kind: 'greater' }), false, 'one seed proves nothing');
  assert.equal(reproduced(-0.01, 0.005, { kind: 'within', margin: 0.03 }), true);
  assert.equal(reproduced(-0.01, 0.015, { kind: 'within', margin: 0.03 }), false, 'the 2-SE interval leaves the margin');
});

test('runs are interleaved seed by seed; arms with the same run file share one run per seed (the recipe run, a before/after finding\'s arms)', () => {
  const fs = [findFinding('curriculum'), findFinding('math-to-code'), findFinding('on-policy')].map((f) => f ?? assert.fail());
  const plan = planRuns(fs, [1, 2], (arm, seed) => armRunFile(arm, demoStages(), SIZINGS.default, seed, 'init.safetensors'), 80);
  const readers = (i: number): string[] => plan[i]?.readers.map((r) => `${r.finding}/${fs.find((f) => f.name === r.finding)?.arms[r.arm]?.name}`) ?? [];
  assert.deepEqual(plan.map((r) => `${r.dir}`), [
    'curriculum/short-first/seed-1', 'curriculum/longest-only/seed-1', 'math-to-code/after-math/seed-1', 'on-policy/2-updates/seed-1', 'on-policy/4-updates/seed-1',
    'curriculum/short-first/seed-2', 'curriculum/longest-only/seed-2', 'math-to-code/after-math/seed-2', 'on-policy/2-updates/seed-2', 'on-policy/4-updates/seed-2',
  ]);
  assert.deepEqual(readers(0), ['curriculum/short-first', 'on-policy/1-update'], 'the math-only run');
  assert.deepEqual(readers(2), ['math-to-code/after-math', 'math-to-code/before-rl'], 'the recipe run');
  assert.deepEqual(plan.map((r) => r.seed), [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  assert.equal((plan[5]?.run.run as { seed: number }).seed, 2);
  assert.ok(plan.every((r) => r.pool === undefined), 'no pooled arm here');
  const prf = planRuns([findFinding('pass-rate-filter') ?? assert.fail()], [1], (arm, seed) => armRunFile(arm, demoStages(), SIZINGS.default, seed, 'i'), 80);
  assert.deepEqual(prf.map((r) => [r.dir, r.pool]), [['pass-rate-filter/filtered/seed-1', 80], ['pass-rate-filter/unfiltered/seed-1', 80]]);
});

test('every arm of every finding compiles with the learner\'s run-config compiler and differs as its finding says', () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-ablate-'));
  try {
    writeDemoSplits({ outDir: dir, seed: 1, mathTrain: 20, mathEval: 5, codeTrain: 8, codeEval: 2 });
    const compiled = new Map<string, ReturnType<typeof loadRunConfig>>();
    for (const f of FINDINGS) for (const a of f.arms) {
      const file = join(dir, `${f.name}-${a.name}.yaml`);
      const { model: _init, ...run } = armRunFile(a, demoStages(), SIZINGS.default, 2, '');
      writeFileSync(file, stringifyYaml(run));
      compiled.set(`${f.name}/${a.name}`, loadRunConfig(file));
    }
    const get = (k: string): ReturnType<typeof loadRunConfig> => compiled.get(k) ?? assert.fail(k);
    assert.deepEqual(get('curriculum/short-first').stages.map((s) => s.maxResponseTokens), [32, 64]);
    assert.deepEqual(get('curriculum/longest-only').stages.map((s) => s.maxResponseTokens), [64, 64]);
    assert.equal(get('curriculum/short-first').stages.reduce((a, s) => a + s.steps, 0), SIZINGS.default.mathSteps);
    assert.deepEqual(get('curriculum/short-first').eval?.datasets, ['math_eval'], 'a math-only arm evaluates math only');
    // the recipe run: the math stages, then the demo's code stage as the recipe writes it (all its steps, its lr, a fresh optimizer)
    const rec = get('code-keeps-math/after-code');
    const demoCode = demoStages().find((s) => s.name === 'code-128') ?? assert.fail();
    assert.deepEqual(rec.stages.map((s) => s.name), ['math-32', 'math-64', 'code-128']);
    assert.deepEqual([rec.stages[2]?.steps, rec.stages[2]?.learningRate, rec.stages[2]?.resetOptimizer], [demoCode.steps, demoCode.lr, true]);
    assert.deepEqual([rec.eval?.maxPrompts, rec.eval?.datasets], [SIZINGS.default.evalPrompts, ['math_eval', 'code_eval']]);
    assert.deepEqual(get('temperature/fixed-0.6').stages.map((s) => s.temperatureControl), [{ kind: 'fixed', value: 0.6 }, { kind: 'fixed', value: 0.6 }]);
    assert.equal(get('temperature/entropy-target').stages[1]?.temperatureControl.kind, 'entropy-target');
    assert.equal(get('pass-rate-filter/filtered').stages[1]?.filter.maxPassRate, 6 / 16, 'the paper\'s threshold');
    assert.equal(get('pass-rate-filter/unfiltered').stages[1]?.filter.maxPassRate, 1);
    assert.match(get('pass-rate-filter/filtered').datasets.math?.path ?? '', /math-train-first-80\.jsonl$/, 'a pool of what math-32 draws: 16 prompts x 5 steps');
    assert.deepEqual(['1-update', '2-updates', '4-updates'].map((a) => get(`on-policy/${a}`).algorithm.updatesPerBatch), [1, 2, 4]);
    assert.equal(get('on-policy/2-updates').eval?.atStageBoundaries, false, 'a training metric: no held-out evals to pay for');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a finding\'s result: arms per seed, the effect against the strongest other arm, the paired test against every other arm, and a missing eval named', () => {
  const f = findFinding('temperature') ?? assert.fail();
  const r = findingResult(f, SIZINGS.default, [1, 2, 3], [[0.5, 0.52, 0.54], [0.3, 0.31, 0.32], [0.4, 0.42, 0.44]]);
  assert.deepEqual(r.arms.map((a) => a.name), ['entropy-target', 'fixed-0.6', 'fixed-1.4']);
  assert.ok(Math.abs(r.effect - 0.1) < 1e-9, 'against fixed-1.4, the stronger one');
  assert.equal(r.vs, 'fixed-1.4');
  assert.equal(r.reproduced, true);
  assert.match(r.test, /paired by seed/);
  // the strongest arm by mean is beaten, a weaker one is not beaten by the test (it tracks the first arm seed by seed less tightly): not reproduced
  const loose = findingResult(f, SIZINGS.default, [1, 2, 3], [[0.5, 0.6, 0.7], [0.3, 0.7, 0.45], [0.45, 0.55, 0.65]]);
  assert.equal(loose.vs, 'fixed-1.4');
  assert.ok(reproduced(loose.effect, loose.noise, f.expect), 'against the strongest: +5 points every seed');
  assert.equal(loose.reproduced, false, 'against fixed-0.6: d = 0.2, -0.1, 0.25 does not clear 2 x noise');
  // shared seeds: a constant seed-by-seed gap is beyond noise even when the seeds spread widely
  const paired = findingResult(findFinding('curriculum') ?? assert.fail(), SIZINGS.default, [1, 2, 3], [[0.42, 0.62, 0.52], [0.4, 0.6, 0.5]]);
  assert.ok((paired.noise ?? NaN) < 1e-12);
  assert.equal(paired.reproduced, true);
  const e = { dataset: 'math_eval', step: 4, stage: 'math-64', k: 2, avgAtK: 0.25, passAtK: 0.5, prompts: 8, missing: 0, trigger: { kind: 'stage-end' as const, stage: 'math-64' } };
  assert.equal(readMetric({ evals: [e], metrics: [] }, { dataset: 'math_eval', at: 'end-of-stage', stage: 'math-64' }, 'r'), 0.25);
  assert.throws(() => readMetric({ evals: [e], metrics: [] }, { dataset: 'code_eval', at: 'before-training' }, 'runs/x'), /runs\/x: no code_eval eval before training/);
  // a training metric: the mean over the last quarter of the named stages' steps
  const metrics = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.01].map((v, step) => ({ step, stage: step < 8 ? 'm' : 'code', entropy_mean: v }));
  assert.ok(Math.abs(readMetric({ evals: [], metrics }, { at: 'last-steps', key: 'entropy_mean', fraction: 0.25, stages: ['m'] }, 'r') - 0.25) < 1e-12);
  // a stage's prompts: the learner's stage plan (pool, eligible, dropped) and the groups it drew
  const log = ['{"level":30,"msg":"stage planned","stage":"math-32","prompts":80,"eligible":80,"dropped":{"too_easy":0,"never_solved":0}}', 'not json', '{"level":30,"msg":"stage planned","stage":"math-64","prompts":80,"eligible":51,"dropped":{"too_easy":29,"never_solved":0}}'].join('\n');
  const steps = [{ step: 4, stage: 'math-32', groups: 16 }, { step: 5, stage: 'math-64', groups: 16 }, { step: 6, stage: 'math-64', groups: 16 }];
  assert.deepEqual(stagePromptCounts(log, steps, 'math-64', 'r'), { pool: 80, eligible: 51, filtered: 29, draws: 32 });
  assert.throws(() => stagePromptCounts(log, steps, 'code-128', 'runs/z'), /runs\/z: no "stage planned" line of stage code-128/);
  assert.throws(() => readMetric({ evals: [], metrics: [{ step: 0, stage: 'm' }] }, { at: 'last-steps', key: 'entropy_mean', fraction: 0.25, stages: ['m'] }, 'runs/y'), /runs\/y: no entropy_mean of stages m in metrics.jsonl/);
});

test('the report names the arm the effect is against and lists a finding\'s prompt counts', () => {
  const f = findFinding('pass-rate-filter') ?? assert.fail();
  const counts = (filtered: number): StagePrompts => ({ stage: 'math-64', pool: [80], eligible: [80 - filtered], filtered: [filtered], draws: [80] });
  const result = findingResult(f, SIZINGS.default, [1], [[0.5], [0.45]], [counts(29), counts(0)]);
  assert.deepEqual(result.arms.map((a) => a.prompts?.eligible), [[51], [80]]);
  const html = renderAblationReport([{ result, runs: [], evalDataset: 'math_eval' }], 'now');
  assert.match(html, /effect against unfiltered 5\.0 points/);
  assert.match(html, /<li>filtered, math-64 \(per seed\): pool 80; filtered 29; eligible 51; draws 80<\/li>/);
});
