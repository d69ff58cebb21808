import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleScored, type ScoredGroup } from '@acereason/protocol';
import { compileRunConfig, type RunConfig } from '../config/run-config.js';
import { createLearnerEngine } from '../setup.js';
import { trainStep } from './train-step.js';

const raw = (algorithm: Record<string, unknown>, lr?: number): Record<string, unknown> => ({
  run: { id: 'r', seed: 3 }, model: { preset: 'demo' }, datasets: { m: { path: 'm.jsonl', domain: 'math' } }, algorithm,
  stages: [{ name: 's', dataset: 'm', steps: 1, batch_prompts: 2, group_size: 4, max_response_tokens: 8, ...(lr !== undefined ? { lr } : {}) }],
});

/** Two groups of 4 responses of 8 tokens inside the model's vocabulary, half of them rewarded. */
function groups(vocab: number): ScoredGroup[] {
  return [0, 1].map((slot) => {
    const sg = exampleScored({ id: `g${slot}`, groupSize: 4, tokensPerResponse: 8 });
    sg.task = sg.group.task = { step: 0, slot, retry: 0, purpose: { kind: 'train' } };
    sg.group.promptTokens = sg.group.promptTokens.map((t) => t % vocab);
    for (const r of sg.group.responses) {
      r.tokens = r.tokens.map((t) => t % vocab);
      r.finishReason = 'stop';
    }
    return sg;
  });
}

test('algorithm.updates_per_batch: default 1, an integer in [1, 16]; bad values name the field; kl_coef > 0 is refused (no reference policy)', () => {
  assert.equal(compileRunConfig(raw({})).algorithm.updatesPerBatch, 1);
  assert.equal(compileRunConfig(raw({ updates_per_batch: 4 })).algorithm.updatesPerBatch, 4);
  assert.throws(() => compileRunConfig(raw({ kl_coef: 0.01 })), /algorithm\.kl_coef: must be 0: the learner keeps no reference policy/);
  for (const bad of [0, 2.5, 17, 'two']) assert.throws(() => compileRunConfig(raw({ updates_per_batch: bad })), /algorithm\.updates_per_batch/, String(bad));
});

async function trainOnce(config: RunConfig): Promise<{ updates: number; clipFraction: number; optimizerSteps: number }> {
  const { engine } = await createLearnerEngine(config, { fresh: true });
  try {
    const stage = config.stages[0];
    assert.ok(stage);
    const { train } = await trainStep(engine, groups(engine.model.vocabSize), stage, config.algorithm, 0, 1, 0);
    return { updates: train.updates, clipFraction: train.clipFraction, optimizerSteps: engine.optimizerStateTensors?.().step ?? -1 };
  } finally {
    await engine.dispose();
  }
}

test('updates_per_batch: 1 is one on-policy update (ratio 1, nothing clipped); 2 trains twice on the same rollouts, the second ratio against the generating policy (clipped once it moved)', async () => {
  // A large per-stage rate moves the policy far in one update, so the second update's ratios leave the clip range.
  const one = await trainOnce(compileRunConfig(raw({}, 0.05)));
  assert.deepEqual(one, { updates: 1, clipFraction: 0, optimizerSteps: 1 });
  const two = await trainOnce(compileRunConfig(raw({ updates_per_batch: 2 }, 0.05)));
  assert.equal(two.updates, 2);
  assert.equal(two.optimizerSteps, 2);
  assert.ok(two.clipFraction > 0, `the second update is clipped against the generating policy (clip fraction ${two.clipFraction})`);
});

test('stages[].reset_optimizer: off by default and not inherited by later stages; a boolean (the field is named); refused with a cosine schedule', () => {
  const stages = (first: Record<string, unknown>): Record<string, unknown> => ({ ...raw({}), stages: [{ name: 'a', dataset: 'm', steps: 1, batch_prompts: 2, max_response_tokens: 8, ...first }, { name: 'b', steps: 1 }] });
  assert.deepEqual(compileRunConfig(stages({})).stages.map((s) => s.resetOptimizer), [false, false]);
  assert.deepEqual(compileRunConfig(stages({ reset_optimizer: true })).stages.map((s) => s.resetOptimizer), [true, false]);
  assert.throws(() => compileRunConfig(stages({ reset_optimizer: 'sometimes' })), /stages\[0\]\.reset_optimizer/);
  assert.throws(() => compileRunConfig({ ...stages({ reset_optimizer: true }), optimizer: { schedule: 'cosine' } }), /stages\[0\]\.reset_optimizer: not with optimizer\.schedule: cosine/);
  assert.equal(compileRunConfig({ ...stages({ reset_optimizer: true }), optimizer: { schedule: 'linear-warmup', warmup_steps: 2 } }).stages[0]?.resetOptimizer, true);
});

test('reset_optimizer: the stage\'s first step starts from zero moments (the same update as a fresh optimizer from the same weights), later steps keep them', async () => {
  const plain = compileRunConfig(raw({}, 0.01));
  const reset = compileRunConfig({ ...raw({}, 0.01), stages: [{ name: 's', dataset: 'm', steps: 2, batch_prompts: 2, group_size: 4, max_response_tokens: 8, lr: 0.01, reset_optimizer: true }] });
  const [plainStage, resetStage] = [plain.stages[0], reset.stages[0]];
  assert.ok(plainStage && resetStage);
  const { engine: a } = await createLearnerEngine(plain, { fresh: true });
  const { engine: b } = await createLearnerEngine(plain, { fresh: true });
  try {
    const g = groups(a.model.vocabSize);
    // Two steps of an earlier stage fill a's moments.
    for (const s of [0, 1]) await trainStep(a, g, plainStage, plain.algorithm, s, 1, s);
    assert.equal(a.optimizerStateTensors?.().step, 2);
    const before = a.exportSafetensors();
    // b: a fresh optimizer, the same weights.
    await b.loadWeights(before);
    await trainStep(b, g, plainStage, plain.algorithm, 2, 1, 0);
    // A stage without the reset at its first step keeps the earlier moments: a different update.
    const { engine: c } = await createLearnerEngine(plain, { fresh: true });
    try {
      for (const s of [0, 1]) await trainStep(c, g, plainStage, plain.algorithm, s, 1, s);
      await trainStep(c, g, plainStage, plain.algorithm, 2, 1, 0);
      assert.notEqual(c.weightsSha256(), b.weightsSha256());
    } finally {
      await c.dispose();
    }
    await trainStep(a, g, resetStage, reset.algorithm, 2, 1, 0);
    assert.equal(a.optimizerStateTensors?.().step, 1, 'the reset put the step count back');
    assert.equal(a.weightsSha256(), b.weightsSha256(), 'the reset stage\'s first update is a fresh optimizer\'s');
    // The stage's second step (or a run resumed inside the stage) does not reset again.
    await trainStep(a, g, resetStage, reset.algorithm, 3, 1, 1);
    assert.equal(a.optimizerStateTensors?.().step, 2);
  } finally {
    await a.dispose();
    await b.dispose();
  }
});
