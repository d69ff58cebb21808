import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stageStartVerdict, solvedLastTime, NO_FILTER, type PromptFilterConfig } from './filters.js';
import { nextTemperature, initialTemperature } from './temperature.js';
import { passRateKey, recentPassRate } from './pass-rates.js';
import { compileRunConfig } from '../config/run-config.js';

const rec = (stage: string, attempts: number, passes: number) => ({ stage, step: 0, version: 1, attempts, passes });
const f: PromptFilterConfig = { ...NO_FILTER, maxPassRate: 6 / 16, dropNeverSolved: true, window: 16 };

test('stage-start filter: drop too easy (> 6/16) and never solved, keep the rest and the unseen', () => {
  assert.equal(stageStartVerdict({ dataset: 'd', promptId: 'a', records: [rec('s', 16, 7)] }, f), 'too_easy');
  assert.equal(stageStartVerdict({ dataset: 'd', promptId: 'a', records: [rec('s', 16, 6)] }, f), 'keep');
  assert.equal(stageStartVerdict({ dataset: 'd', promptId: 'a', records: [rec('s', 16, 0)] }, f), 'never_solved');
  assert.equal(stageStartVerdict(undefined, f), 'keep');
  // Only the newest `window` attempts count: an old success does not save a prompt now always solved.
  assert.equal(stageStartVerdict({ dataset: 'd', promptId: 'a', records: [rec('s', 8, 0), rec('s', 8, 8), rec('s', 8, 8)] }, f), 'too_easy');
  assert.deepEqual(recentPassRate({ dataset: 'd', promptId: 'a', records: [rec('s', 8, 0), rec('s', 8, 8), rec('s', 8, 8)] }, 16), { attempts: 16, passes: 16 });
});

test('within-stage filter: solved by every rollout the last time in this stage', () => {
  const p = { dataset: 'd', promptId: 'a', records: [rec('code-1', 8, 8), rec('code-2', 8, 3)] };
  assert.equal(solvedLastTime(p, 'code-1'), true);
  assert.equal(solvedLastTime(p, 'code-2'), false);
  assert.equal(solvedLastTime(p, 'other'), false);
});

test('entropy-target temperature moves toward the target and stays in bounds', () => {
  const t = { kind: 'entropy-target' as const, target: 0.3, initial: 0.6, min: 0.3, max: 1.2, gain: 1 };
  assert.equal(initialTemperature(t), 0.6);
  assert.ok(nextTemperature(t, 0.6, 1, 10, 0.1) > 0.6, 'too little entropy heats up');
  assert.ok(nextTemperature(t, 0.6, 1, 10, 0.9) < 0.6, 'too much entropy cools down');
  assert.equal(nextTemperature(t, 1.19, 1, 10, 0), Math.min(1.2, 1.19 * Math.exp(0.3)));
  assert.equal(nextTemperature(t, 0.31, 1, 10, 5), 0.3);
  assert.equal(nextTemperature({ kind: 'schedule', from: 0.6, to: 1.0 }, 0, 5, 6, undefined), 1.0);
  assert.equal(nextTemperature({ kind: 'fixed', value: 0.7 }, 0.1, 3, 6, 0.2), 0.7);
});

test('pass-rate keys are KV-safe for any prompt id', () => {
  assert.equal(passRateKey('math', 'p-17'), 'math.p-17');
  assert.match(passRateKey('math', 'AIME 2024/3?'), /^math\.h-[0-9a-f]{32}$/);
});

test('stage config: temperature forms, filters, epochs, and errors that name the field', () => {
  const base = { run: { id: 'r' }, model: { preset: 'demo' }, datasets: { m: { path: 'm.jsonl', domain: 'math' } } };
  const c = compileRunConfig({ ...base, stages: [
    { name: 'a', dataset: 'm', steps: 3, max_response_tokens: '8k', temperature: { target_entropy: 0.3, initial: 0.6 } },
    { name: 'b', epochs: 2, max_response_tokens: '16k', filter: { max_pass_rate: '6/16', drop_never_solved: true } },
  ] });
  assert.equal(c.stages[0]?.maxResponseTokens, 8192);
  assert.deepEqual(c.stages[0]?.temperatureControl, { kind: 'entropy-target', target: 0.3, initial: 0.6, min: 0.1, max: 2, gain: 0.5 });
  assert.equal(c.stages[1]?.temperatureControl.kind, 'entropy-target', 'inherited');
  assert.equal(c.stages[1]?.epochs, 2);
  assert.equal(c.stages[1]?.filter.maxPassRate, 0.375);
  assert.equal(c.stages[0]?.filter.maxPassRate, 1, 'filters are not inherited');
  assert.throws(() => compileRunConfig({ ...base, stages: [{ dataset: 'm', steps: 1, max_response_tokens: 'lots' }] }), /stages\[0\]\.max_response_tokens: expected a token count/);
  assert.throws(() => compileRunConfig({ ...base, stages: [{ dataset: 'm', steps: 1, epochs: 1, max_response_tokens: 8 }] }), /stages\[0\]\.epochs: give either steps or epochs/);
  assert.throws(() => compileRunConfig({ ...base, stages: [{ dataset: 'm', steps: 1, max_response_tokens: 8, filter: { max_pass: 1 } }] }), /stages\[0\]\.filter\.max_pass: unknown setting/);
  assert.throws(() => compileRunConfig({ ...base, stages: [{ dataset: 'nope', steps: 1, max_response_tokens: 8 }] }), /stages\[0\]\.dataset: "nope" is not one of the datasets/);
  assert.throws(() => compileRunConfig({ ...base, run: { id: 'bad id' }, stages: [{ dataset: 'm', steps: 1, max_response_tokens: 8 }] }), /run\.id:/);
  assert.throws(() => compileRunConfig({ ...base, stages: [{ dataset: 'm', steps: 1, max_response_tokens: 8, temprature: 1 }] }), /stages\[0\]\.temprature: unknown setting/);
});

test('the shipped recipes compile, and a run file can build on one', async () => {
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const { recipePath, mergeConfig } = await import('../config/run-file.js');
  const seven = compileRunConfig(parse(readFileSync(recipePath('acereason-7b'), 'utf8')), '/srv/run');
  assert.deepEqual(seven.stages.map((s) => [s.name, s.domain, s.maxResponseTokens, s.groupSize]), [
    ['math-8k', 'math', 8192, 8], ['math-16k', 'math', 16384, 16], ['math-24k', 'math', 24576, 16],
    ['code-24k', 'code', 24000, 8], ['code-32k', 'code', 32768, 16], ['math-32k', 'math', 32768, 16],
  ]);
  assert.equal(seven.stages[2]?.filter.maxPassRate, 6 / 16);
  assert.equal(seven.stages[5]?.overlong, 'zero');
  assert.equal(seven.stages[3]?.learningRate, 5e-6);
  assert.equal(seven.stages[0]?.batchPrompts, 128);
  const demo = compileRunConfig(parse(readFileSync(recipePath('demo'), 'utf8')), '/tmp/d');
  assert.equal(demo.stages.at(-1)?.domain, 'code');
  const merged = mergeConfig(parse(readFileSync(recipePath('demo'), 'utf8')), { run: { id: 'mine' }, stages: [{ name: 'only', dataset: 'math', steps: 1, max_response_tokens: 8 }] });
  const c = compileRunConfig(merged, '/tmp/d');
  assert.equal(c.runId, 'mine');
  assert.equal(c.stages.length, 1, 'lists are replaced, not merged');
  assert.equal(c.model.preset, 'demo', 'unmentioned sections come from the recipe');
});
