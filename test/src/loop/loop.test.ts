import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { natsFixture, tempDir, waitFor } from '@acereason/testkit';
import { listWorkers } from '@acereason/transport';
import { writeTinyRun, startLearner, startActor, startVerifier, readMetrics, exitWithin, stopAll } from './fixture.js';


test('a tiny run with the learner, 2 actors and 2 verifiers as processes finishes with sane metrics', async () => {
  await using dir = await tempDir();
  await using f = await natsFixture();
  const cfg = await writeTinyRun(dir.path, { runId: 'tiny', steps: 3 });
  const learner = startLearner(cfg, f.server.url);
  const others = [startActor('tiny', f.server.url, 'actor-a'), startActor('tiny', f.server.url, 'actor-b'), startVerifier('tiny', f.server.url, 'ver-a'), startVerifier('tiny', f.server.url, 'ver-b')];
  try {
    const exit = await exitWithin(learner, 240_000);
    assert.equal(exit.code, 0, learner.output.slice(-4000));
    const metrics = readMetrics(readFileSync(join(dir.path, 'out', 'metrics.jsonl'), 'utf8'));
    assert.deepEqual(metrics.map((m) => m.step), [0, 1, 2]);
    for (const m of metrics) {
      assert.equal(m.groups, 4, 'one scored group per prompt');
      assert.ok(m.reward_mean >= 0 && m.reward_mean <= 1);
      assert.ok(m.accuracy >= 0 && m.accuracy <= 1);
      assert.ok((m.response_len_mean as number) > 0 && (m.response_len_max as number) <= 12);
      assert.ok((m.truncation_rate as number) >= 0 && (m.truncation_rate as number) <= 1);
      assert.ok(Number.isFinite(m.grad_norm as number));
      assert.equal(m.policy_version, m.step + 1);
    }
    assert.ok(metrics.some((m) => m.reward_mean > 0), 'the warm-started model earns some reward');
    // Every step counts the workers the registry holds then (a worker still starting may not have
    // beaten yet: the run can end before the second verifier's first heartbeat) ...
    for (const m of metrics) {
      const actors = m.actors as number;
      const verifiers = m.verifiers as number;
      assert.ok(actors >= 1 && actors <= 2 && verifiers >= 1 && verifiers <= 2, `workers counted at step ${m.step}: ${actors} actors, ${verifiers} verifiers`);
    }
    // ... and the registry the learner reads holds both actors and both verifiers.
    await waitFor(async () => {
      const roles = (await listWorkers(f.topology.workers, 'tiny')).map((w) => w.role);
      return roles.filter((r) => r === 'actor').length === 2 && roles.filter((r) => r === 'verifier').length === 2;
    }, { what: 'both actors and both verifiers in the worker registry', timeoutMs: 60_000 });
    assert.match(learner.output, /learner finished/);
  } finally {
    await stopAll([learner, ...others]);
  }
});

test('async mode (max_staleness 1): actors run one version ahead, staleness stays within the bound', async () => {
  await using dir = await tempDir();
  await using f = await natsFixture();
  const cfg = await writeTinyRun(dir.path, { runId: 'asyncrun', steps: 4, mode: 'async', maxStaleness: 1 });
  const learner = startLearner(cfg, f.server.url);
  const others = [startActor('asyncrun', f.server.url, 'actor-a'), startActor('asyncrun', f.server.url, 'actor-b'), startVerifier('asyncrun', f.server.url, 'ver-a')];
  try {
    const exit = await exitWithin(learner, 240_000);
    assert.equal(exit.code, 0, learner.output.slice(-4000));
    const metrics = readMetrics(readFileSync(join(dir.path, 'out', 'metrics.jsonl'), 'utf8'));
    assert.deepEqual(metrics.map((m) => m.step), [0, 1, 2, 3]);
    for (const m of metrics) {
      assert.equal(m.groups, 4);
      assert.ok((m.staleness_max as number) <= 1, `staleness ${m.staleness_max as number} within max_staleness 1`);
    }
    assert.ok(metrics.slice(1).some((m) => (m.staleness_max as number) === 1), 'later steps train on groups generated one version behind');
  } finally {
    await stopAll([learner, ...others]);
  }
});

test('zero-variance groups are filtered and extra prompts are over-sampled until the batch has signal', async () => {
  await using dir = await tempDir();
  await using f = await natsFixture();
  const cfg = await writeTinyRun(dir.path, { runId: 'oversample', steps: 3, stageExtra: '    oversample: 1.0' });
  const learner = startLearner(cfg, f.server.url);
  const others = [startActor('oversample', f.server.url, 'actor-a'), startActor('oversample', f.server.url, 'actor-b'), startVerifier('oversample', f.server.url, 'ver-a')];
  try {
    const exit = await exitWithin(learner, 240_000);
    assert.equal(exit.code, 0, learner.output.slice(-4000));
    const metrics = readMetrics(readFileSync(join(dir.path, 'out', 'metrics.jsonl'), 'utf8'));
    for (const m of metrics) {
      assert.ok((m.groups_used as number) <= 4, 'never more groups than the batch');
      const counts = m.staleness_counts as Record<string, number>;
      assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), m.groups, 'every group has its staleness recorded');
    }
    // The warm-started model solves few prompts: most groups carry no signal, so extra rounds were drawn.
    assert.ok(metrics.some((m) => m.groups > 4), `some step over-sampled: ${metrics.map((m) => m.groups).join(',')}`);
  } finally {
    await stopAll([learner, ...others]);
  }
});
