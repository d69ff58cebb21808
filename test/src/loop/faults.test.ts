import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { codecs, Consumers, SCHEMA_VERSION, Streams, Subjects, type ScoredGroup } from '@acereason/protocol';
import { jetstreamClient, publishMessage } from '@acereason/transport';
import { natsFixture, tempDir, waitFor, type ChildHandle } from '@acereason/testkit';
import { PassRateTable } from '@acereason/learner';
import { writeTinyRun, startLearner, startActor, startVerifier, readMetrics, exitWithin, problems, type MetricsLine, stopAll } from './fixture.js';


test('kill -9 of an actor holding tasks: its tasks are redelivered and the step completes', async () => {
  await using dir = await tempDir();
  await using f = await natsFixture();
  const cfg = await writeTinyRun(dir.path, { runId: 'actorkill', steps: 2, batchPrompts: 8, groupSize: 8 });
  const learner = startLearner(cfg, f.server.url);
  const verifiers = [startVerifier('actorkill', f.server.url, 'ver-a')];
  const doomed = startActor('actorkill', f.server.url, 'doomed');
  const jsm = await jetstreamManager(f.nc);
  const children: ChildHandle[] = [learner, ...verifiers, doomed];
  try {
    // Freeze the actor the moment it holds unacked tasks, then kill it: those leases must come back.
    await waitFor(async () => {
      const info = await jsm.consumers.info(Streams.TASKS, Consumers.actors('actorkill')).catch(() => undefined);
      return (info?.num_ack_pending ?? 0) > 0;
    }, { what: 'the actor to hold tasks', timeoutMs: 60_000, intervalMs: 5 });
    doomed.signal('SIGSTOP');
    const held = (await jsm.consumers.info(Streams.TASKS, Consumers.actors('actorkill'))).num_ack_pending;
    assert.ok(held > 0);
    await doomed.kill('SIGKILL');
    const survivor = startActor('actorkill', f.server.url, 'survivor');
    children.push(survivor);
    const exit = await exitWithin(learner, 180_000);
    assert.equal(exit.code, 0, learner.output.slice(-3000));
    const metrics = readMetrics(readFileSync(join(dir.path, 'out', 'metrics.jsonl'), 'utf8'));
    assert.deepEqual(metrics.map((m) => [m.step, m.groups]), [[0, 8], [1, 8]]);
    const info = await jsm.consumers.info(Streams.TASKS, Consumers.actors('actorkill'));
    assert.ok(info.delivered.consumer_seq > info.delivered.stream_seq, `some task was delivered twice (deliveries ${info.delivered.consumer_seq}, tasks ${info.delivered.stream_seq})`);
  } finally {
    await stopAll(children);
  }
});

test('kill -9 of the learner after a checkpoint, then a restart: same groups consumed as an uninterrupted run, none twice', async () => {
  await using dir = await tempDir();
  await using f = await natsFixture();
  const steps = 6;
  const cfg = await writeTinyRun(dir.path, { runId: 'lrnkill', steps, checkpointEvery: 2 });
  const workers = [startActor('lrnkill', f.server.url, 'actor-a'), startActor('lrnkill', f.server.url, 'actor-b'), startVerifier('lrnkill', f.server.url, 'ver-a')];
  const first = startLearner(cfg, f.server.url);
  const children: ChildHandle[] = [first, ...workers];
  try {
    // After the checkpoint at step 2, let it run into step 3, then kill it hard.
    await first.waitForOutput(/"step":3,[^\n]*"msg":"step done"/, 120_000);
    await first.kill('SIGKILL');
    const second = startLearner(cfg, f.server.url);
    children.push(second);
    const exit = await exitWithin(second, 180_000);
    assert.equal(exit.code, 0, second.output.slice(-3000));
    assert.match(second.output, /"resumed":true/);
    const state = JSON.parse(readFileSync(join(dir.path, 'out', 'checkpoints', `step-${String(steps).padStart(7, '0')}`, 'state.json'), 'utf8')) as { step: number; consumedGroups: number };
    assert.equal(state.step, steps);
    assert.equal(state.consumedGroups, steps * 4, 'exactly one scored group per prompt per step, counted once');
    const metrics = readMetrics(readFileSync(join(dir.path, 'out', 'metrics.jsonl'), 'utf8'));
    // Steps after the checkpoint were redone by the second learner; the final record of each step has every group.
    const last = new Map<number, MetricsLine>();
    for (const m of metrics) last.set(m.step, m);
    assert.deepEqual([...last.keys()].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5]);
    for (const m of last.values()) assert.equal(m.groups, 4);
    // The pass-rate table (a KV bucket) survived the restart and counts each step once.
    const table = new PassRateTable(f.topology.passRates);
    const rates = await table.loadAll('arith', problems(40).map((p) => p.id));
    const attempts = [...rates.values()].flatMap((r) => r.records).filter((r) => r.stage === 'math-tiny').reduce((a, r) => a + r.attempts, 0);
    assert.equal(attempts, steps * 4 * 4, 'every sampled response counted once, replayed steps included');
    // The redone steps saw the same groups again (redelivered, not regenerated differently).
    const firstRun = metrics.filter((m) => m.step === 2);
    assert.ok(firstRun.length >= 1);
    assert.ok(firstRun.every((m) => m.reward_mean === firstRun[0]?.reward_mean));
  } finally {
    await stopAll(children);
  }
});

async function runRewards(actors: number, runId: string): Promise<number[]> {
  await using dir = await tempDir();
  await using f = await natsFixture();
  const cfg = await writeTinyRun(dir.path, { runId, steps: 3, seed: 11 });
  const learner = startLearner(cfg, f.server.url);
  const children: ChildHandle[] = [learner, startVerifier(runId, f.server.url, 'ver-a')];
  for (let i = 0; i < actors; i++) children.push(startActor(runId, f.server.url, `actor-${i}`));
  try {
    const exit = await exitWithin(learner, 180_000);
    assert.equal(exit.code, 0, learner.output.slice(-3000));
    return readMetrics(readFileSync(join(dir.path, 'out', 'metrics.jsonl'), 'utf8')).map((m) => m.reward_mean);
  } finally {
    await stopAll(children);
  }
}

test('with fixed seeds, runs with 1 and 3 actors produce the same rewards per step', async () => {
  const one = await runRewards(1, 'seeded-one');
  const three = await runRewards(3, 'seeded-three');
  assert.equal(one.length, 3);
  assert.deepEqual(three, one);
});

test('a group with a forged weights hash is rejected and its prompt re-issued', async () => {
  await using dir = await tempDir();
  await using f = await natsFixture();
  const cfg = await writeTinyRun(dir.path, { runId: 'forged', steps: 2 });
  const learner = startLearner(cfg, f.server.url);
  const children: ChildHandle[] = [learner, startVerifier('forged', f.server.url, 'ver-a')];
  try {
    // Before any actor exists, read one of step 0's tasks and forge its scored group.
    const jsm = await jetstreamManager(f.nc);
    await waitFor(async () => (await jsm.streams.info(Streams.TASKS)).state.messages >= 4, { what: 'step 0 tasks', timeoutMs: 60_000 });
    const first = await jsm.streams.getMessage(Streams.TASKS, { seq: (await jsm.streams.info(Streams.TASKS)).state.first_seq });
    assert.ok(first);
    const task = codecs.RolloutTask.decode(first.data);
    const forged: ScoredGroup = {
      schema: SCHEMA_VERSION, kind: 'ScoredGroup', runId: 'forged', id: task.id, createdAtMs: Date.now(), verifierId: 'mallory', verifyMs: 1, task: task.task,
      group: {
        schema: SCHEMA_VERSION, kind: 'TrajectoryGroup', runId: 'forged', id: task.id, createdAtMs: Date.now(), task: task.task, stage: task.stage,
        promptId: task.promptId, domain: 'math', promptTokens: task.promptTokens, policyVersion: task.policyVersion, weightsSha256: 'f'.repeat(64), actorId: 'mallory',
        responses: [0, 1].map(() => ({ tokens: new Uint32Array([5, 6]), logprobs: new Float32Array([-1, -1]), entropy: 1, finishReason: 'stop' as const, text: 'x' })),
        reference: task.reference, timings: { queuedMs: 0, weightFetchMs: 0, generateMs: 0 },
      },
      results: [1, 0].map((r) => ({ reward: r, status: r ? 'correct' as const : 'wrong' as const, correct: r === 1, reason: 'forged', latencyMs: 0 })),
    };
    await publishMessage(jetstreamClient(f.nc), Subjects.scored('forged'), codecs.ScoredGroup, forged);
    children.push(startActor('forged', f.server.url, 'actor-a'));
    const exit = await exitWithin(learner, 180_000);
    assert.equal(exit.code, 0, learner.output.slice(-3000));
    assert.match(learner.output, /group rejected: its weights hash is not the one of the version it claims/);
    const metrics = readMetrics(readFileSync(join(dir.path, 'out', 'metrics.jsonl'), 'utf8'));
    assert.equal(metrics[0]?.rejected_groups, 1);
    assert.ok(metrics.every((m) => m.groups === 4), 'the step still got one genuine group per prompt');
  } finally {
    await stopAll(children);
  }
});
