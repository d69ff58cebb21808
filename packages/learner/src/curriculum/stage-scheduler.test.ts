/**
 * The StageScheduler against a real pass-rate table (NATS KV): step budgets (fixed and from
 * epochs), stage-start filters, the operator's advance, the plateau rule, the temperature between
 * steps, and a resumed scheduler drawing the same prompts as the one it was checkpointed from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AceReasonError } from '@acereason/protocol';
import { silentLogger } from '@acereason/transport';
import { natsFixture } from '@acereason/testkit';
import { compileRunConfig, type RunConfig, type StageConfig } from '../config/run-config.js';
import { PassRateTable } from './pass-rates.js';
import { StageScheduler } from './stage-scheduler.js';
import { loopDataset } from '../loop/ledger-testkit.js';

function config(): RunConfig {
  return compileRunConfig({
    run: { id: 'sched', seed: 5 }, model: { preset: 'demo' },
    datasets: { m: { path: 'm.jsonl', domain: 'math' }, held: { path: 'h.jsonl', domain: 'math' } },
    eval: { datasets: ['held'], every_steps: 1, at_stage_boundaries: false },
    stages: [
      { name: 'a', dataset: 'm', steps: 2, batch_prompts: 4, group_size: 2, max_response_tokens: 8, temperature: { target_entropy: 0.5, initial: 1.0, min: 0.6, max: 1.4 } },
      { name: 'b', epochs: 1, batch_prompts: 4, max_response_tokens: 16, temperature: 0.7, filter: { max_pass_rate: 0.5 } },
      { name: 'c', steps: 10, max_response_tokens: 16, plateau: { dataset: 'held', patience: 2, min_delta: 0.01 } },
    ],
  });
}

const evalAt = (avgAtK: number) => [{ dataset: 'held', step: 0, stage: 'c', policyVersion: 0, prompts: 1, k: 1, avgAtK, passAtK: avgAtK, missing: 0 }];

test('the scheduler ends a stage at its step budget (fixed, or from epochs after the filters), on an operator request, or when its eval plateaus; the temperature follows the stage', async () => {
  await using f = await natsFixture();
  const c = config();
  const [a, b, st] = c.stages as [StageConfig, StageConfig, StageConfig];
  const passRates = new PassRateTable(f.topology.passRates);
  // Prompts p0..p3 were solved every time: above b's max_pass_rate, so b's filter drops them.
  await passRates.record('m', [0, 1, 2, 3].map((i) => ({ promptId: `p${i}`, record: { stage: 'a', step: 0, version: 0, attempts: 4, passes: 4 } })));
  const s = new StageScheduler({ config: c, datasets: { m: loopDataset(12), held: loopDataset(2) }, passRates, logger: silentLogger() });

  await s.plan(a);
  assert.equal(s.budget(a), 2);
  assert.equal(s.eligibleCount, 12);
  assert.equal(s.temperature(a), 1.0);
  assert.equal(s.endOfStage(a), undefined);
  s.stepDone(a, 1.0, 0.1);
  assert.ok(s.temperature(a) > 1.0 && s.temperature(a) <= 1.4, 'entropy under the target: hotter, within max');
  s.stepDone(a, s.temperature(a), 5);
  assert.equal(s.temperature(a), 0.6, 'entropy far over the target: cooler, held at min');
  assert.deepEqual(s.endOfStage(a), { to: 1, reason: 'step budget of 2 reached' });

  s.enter(1);
  assert.equal(s.stageStep, 0);
  await s.plan(b);
  assert.equal(s.eligibleCount, 8, 'the 4 prompts solved every time are filtered at stage start');
  assert.equal(s.budget(b), 2, 'epochs: ceil(1 x 8 eligible / 4 per batch)');
  assert.equal(s.temperature(b), 0.7);
  const drawn = [...s.draw(b, 4), ...s.draw(b, 4)];
  assert.equal(new Set(drawn).size, 8, 'one epoch draws each eligible prompt once');
  assert.ok(drawn.every((i) => i >= 4), 'never a filtered prompt');

  // An operator's request is taken once; a named stage must exist.
  assert.throws(() => s.requestAdvance('nope'), (e: unknown) => e instanceof AceReasonError && e.code === 'INVALID' && e.field === 'to_stage');
  s.requestAdvance('');
  assert.deepEqual(s.operatorTransition(), { to: 2, reason: 'operator request' });
  assert.equal(s.operatorTransition(), undefined);
  s.requestAdvance('a');
  assert.deepEqual(s.operatorTransition(), { to: 0, reason: 'operator request' });

  s.enter(2);
  await s.plan(st);
  for (const v of [0.3, 0.5]) {
    s.stepDone(st, 1, 1);
    assert.equal(s.periodicEvalDue(st), true);
    s.recordEval(st, evalAt(v));
    assert.equal(s.endOfStage(st), undefined, 'still improving');
  }
  for (const v of [0.5, 0.505]) {
    s.stepDone(st, 1, 1);
    s.recordEval(st, evalAt(v));
  }
  assert.deepEqual(s.endOfStage(st), { to: 3, reason: 'held avg@k plateaued' }, 'two evals without beating 0.5 by 0.01');
});

test('a scheduler resumed from its snapshot draws the prompts the original would have drawn next', async () => {
  await using f = await natsFixture();
  const c = config();
  const a = c.stages[0] as StageConfig;
  const passRates = new PassRateTable(f.topology.passRates);
  const datasets = { m: loopDataset(12), held: loopDataset(2) };
  const s = new StageScheduler({ config: c, datasets, passRates, logger: silentLogger() });
  await s.plan(a);
  s.draw(a, 5);
  s.stepDone(a, 1, 0.1);
  const resumed = new StageScheduler({ config: c, datasets, passRates, logger: silentLogger() }, s.snapshot());
  await resumed.plan(a);
  assert.equal(resumed.stageStep, 1);
  assert.equal(resumed.temperature(a), s.temperature(a));
  assert.deepEqual(resumed.draw(a, 9), s.draw(a, 9));
});
