import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleScored, type ScoredGroup } from '@acereason/protocol';
import { compileRunConfig, type RunConfig } from '../config/run-config.js';
import { buildBatch } from './batch.js';
import { extraPrompts, usableGroups } from './informative.js';

function config(overlong: string): RunConfig {
  return compileRunConfig({
    run: { id: 'r' }, model: { preset: 'demo' }, datasets: { m: { path: 'm.jsonl', domain: 'math' } },
    stages: [{ name: 's', dataset: 'm', steps: 1, batch_prompts: 2, group_size: 4, max_response_tokens: 8, overlong, oversample: 1 }],
  });
}

/** A scored group of 4 responses with these rewards; `t` marks a response cut at the length limit. */
function group(slot: number, rewards: readonly number[], truncated: readonly number[] = []): ScoredGroup {
  const sg = exampleScored({ id: `g${slot}`, groupSize: rewards.length, tokensPerResponse: 8 });
  sg.task = sg.group.task = { step: 0, slot, retry: 0, purpose: { kind: 'train' } };
  sg.group.responses.forEach((r, i) => (r.finishReason = truncated.includes(i) ? 'length' : 'stop'));
  sg.results = rewards.map((reward) => ({ reward, status: reward ? 'correct' : 'wrong', correct: reward === 1, reason: '', latencyMs: 0 }));
  return sg;
}

test('overlong: mask -- a group whose only differing response was truncated has no signal: over-sampling draws more and the step trains on the planned number of groups', () => {
  const c = config('mask');
  const stage = c.stages[0];
  assert.ok(stage);
  assert.equal(stage.overlong, 'mask');
  assert.equal(stage.zeroVarianceFilter, true);
  // Planned 2 groups. [1,1,1,0] with the 0 truncated: masked, the rest all 1 -- no signal.
  const first = [group(0, [1, 1, 1, 0], [3]), group(1, [1, 0, 1, 0])];
  assert.equal(usableGroups(first, stage, c.algorithm), 1);
  const extra = extraPrompts(first, stage, c.algorithm);
  assert.equal(extra, 2, 'one usable group short, times 1 + oversample');
  const all = [...first, group(2, [0, 0, 0, 0]), group(3, [0, 1, 1, 1], [1])];
  assert.equal(extraPrompts(all, stage, c.algorithm), 0);
  const batch = buildBatch(all, stage, c.algorithm, 0, stage.batchPrompts);
  assert.deepEqual(batch.used.map((g) => g.task.slot), [1, 3], 'the planned 2 groups, in slot order');
  assert.equal(batch.zeroVarianceGroups, 2);
  assert.equal(batch.maskedResponses, 1, 'the truncated response of slot 3 is in the batch, masked out');
  assert.equal(batch.sequences.length, 8);
  assert.equal(batch.staleness.length, 4, 'staleness of every group collected');
});

test('overlong: zero -- a group of equal raw rewards with a truncated response has signal: no over-sampling for nothing', () => {
  const c = config('zero');
  const stage = c.stages[0];
  assert.ok(stage);
  const groups = [group(0, [1, 1, 1, 1], [2]), group(1, [1, 0, 0, 0])];
  assert.equal(extraPrompts(groups, stage, c.algorithm), 0, 'truncation zeroes one reward: [1,1,0,1] varies');
  const batch = buildBatch(groups, stage, c.algorithm, 0, stage.batchPrompts);
  assert.equal(batch.used.length, 2);
});

test('the batch trains on at most the planned number of usable groups, in slot order', () => {
  const c = config('mask');
  const stage = c.stages[0];
  assert.ok(stage);
  const groups = [0, 1, 2, 3].map((slot) => group(slot, [1, 0, 0, 1]));
  const batch = buildBatch(groups, stage, c.algorithm, 2, stage.batchPrompts);
  assert.deepEqual(batch.used.map((g) => g.task.slot), [0, 1]);
  assert.equal(batch.responses, 16, 'statistics over every group collected');
  assert.equal(batch.sequences.length, 8);
});
