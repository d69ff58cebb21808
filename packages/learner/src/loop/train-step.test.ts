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
    const { train } = await trainStep(engine, groups(engine.model.vocabSize), stage, config.algorithm, 0, 1);
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
