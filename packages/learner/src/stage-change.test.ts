/**
 * A stage change in async mode, through a real Learner on a real nats-server: the test answers
 * the tasks the learner publishes with scored groups on the SCORED stream, as verifiers would.
 * Every group is flat (no learning signal), so no optimizer update happens and consecutive
 * versions carry the same weights hash -- the case where a task of the new stage could take the
 * msg-id of a task the old stage published ahead, be dropped by JetStream's duplicate window, and
 * leave the old task's group to fill the new stage's slot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codecs, LearnerControlDefinition, Subjects, type RolloutTask } from '@acereason/protocol';
import { createGrpcClient, jetstreamClient, publishMessage, silentLogger } from '@acereason/transport';
import { natsFixture, tempDir, waitFor, type NatsFixture } from '@acereason/testkit';
import { CharTokenizer, DEMO_ALPHABET } from '@acereason/policy';
import { compileRunConfig, type RunConfig } from './config/run-config.js';
import { loadLatestCheckpoint } from './checkpoint/checkpoint.js';
import { createLearnerEngine } from './setup.js';
import { Learner } from './learner.js';
import { answer, loopDataset, publishedTasks, RUN } from './loop/ledger-testkit.js';

const flat = [0, 0, 0, 0];

function twoStages(outDir: string): RunConfig {
  const stage = { dataset: 'm', batch_prompts: 2, group_size: 4, max_response_tokens: 8, zero_variance_filter: true };
  return compileRunConfig({
    run: { id: RUN, seed: 3, out_dir: outDir }, model: { preset: 'demo' }, engine: { threads: 1 },
    datasets: { m: { path: 'm.jsonl', domain: 'math', prompt_template: '{problem}=' } },
    algorithm: { mode: 'async', max_staleness: 2 },
    stages: [{ name: 'a', steps: 4, ...stage }, { name: 'b', steps: 3, ...stage }],
    checkpoint: { every_steps: 1 }, cluster: { grpc_bind: '127.0.0.1:0', step_timeout: '60s' },
  }, outDir);
}

interface Running extends AsyncDisposable {
  learner: Learner;
}

/** A learner running its loop in this process; disposing it stops it without a checkpoint. */
async function startLearner(f: NatsFixture, config: RunConfig): Promise<Running> {
  const { engine, resume } = await createLearnerEngine(config);
  const learner = new Learner({
    config, nc: f.nc, topology: f.topology, engine, tokenizer: new CharTokenizer(DEMO_ALPHABET), tokenizerSpec: { kind: 'char', alphabet: DEMO_ALPHABET },
    datasets: { m: loopDataset() }, logger: silentLogger(), ...(resume ? { resume } : {}),
  });
  await learner.start();
  const running = learner.run();
  return {
    learner,
    async [Symbol.asyncDispose]() {
      await learner.close();
      await running;
    },
  };
}

async function tasksWhere(f: NatsFixture, what: string, n: number, pick: (t: RolloutTask) => boolean): Promise<RolloutTask[]> {
  return waitFor(async () => {
    const found = (await publishedTasks(f)).filter(pick);
    return found.length >= n ? found : undefined;
  }, { what, timeoutMs: 20_000 });
}

test('a stage change in async mode publishes the new stage under fresh task ids; a restarted learner re-publishes the same ones', async () => {
  await using f = await natsFixture();
  await using dir = await tempDir();
  const config = twoStages(dir.path);
  const js = jetstreamClient(f.nc);
  const send = (t: RolloutTask): Promise<unknown> => publishMessage(js, Subjects.scored(RUN), codecs.ScoredGroup, answer(t, flat));

  let ahead: RolloutTask[];
  let b: RolloutTask[];
  {
    await using first = await startLearner(f, config);
    // Stage a's steps 0..2 go out at once (max_staleness 2), all stamped version 0.
    ahead = await tasksWhere(f, 'stage a, steps 0-2', 6, (t) => t.stage === 'a');
    const control = createGrpcClient(LearnerControlDefinition, { address: first.learner.grpcAddress, timeoutMs: 10_000 });
    try {
      // The operator asks for stage b while step 0 is still collecting; it takes effect after step 0.
      assert.equal((await control.advanceStage({ toStage: 'b' })).ok, true);
    } finally {
      control.close();
    }
    for (const t of ahead.filter((x) => x.task.step === 0)) await send(t);

    // Stage b starts at step 1 with version 1, whose weights are version 0's (no update on flat groups).
    b = await tasksWhere(f, 'stage b, steps 1-3 (a task dropped as a duplicate of a stage-a task never appears)', 6, (t) => t.stage === 'b');
    assert.deepEqual(b.map((t) => t.task.step).sort(), [1, 1, 2, 2, 3, 3]);
    const stageAIds = new Set(ahead.map((t) => t.id));
    assert.ok(b.every((t) => !stageAIds.has(t.id)), 'no task of stage b reuses the id of a task of stage a');
    assert.equal(b[0]?.weightsSha256, ahead[0]?.weightsSha256, 'the case under test: the same weights hash on both sides of the stage change');

    // Groups of the abandoned stage-a tasks of step 1 are stale; they do not fill stage b's step 1.
    for (const t of ahead.filter((x) => x.task.step === 1)) await send(t);
    await waitFor(() => first.learner.collectorCounts.stale >= 2, { what: 'the stage-a groups of step 1 counted stale', timeoutMs: 20_000 });
    assert.equal(first.learner.learnerState.step, 1, 'step 1 is still waiting for its stage-b groups');
    for (const t of b.filter((x) => x.task.step === 1)) await send(t);
    await waitFor(() => loadLatestCheckpoint(config.checkpoint.dir)?.state.step === 2, { what: 'the checkpoint after step 1', timeoutMs: 30_000 });
    const steps = readFileSync(join(config.outDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; stage: string });
    assert.deepEqual(steps.map((m) => [m.step, m.stage]), [[0, 'a'], [1, 'b']]);
    // The learner goes away without another checkpoint (as after kill -9).
  }

  // Its successor resumes from the checkpoint: steps 2 and 3 are re-published under the same ids,
  // so JetStream keeps one copy of each, and the groups of the first learner's tasks fill them.
  const before = (await publishedTasks(f)).map((t) => t.id);
  await using second = await startLearner(f, config);
  assert.equal(second.learner.learnerState.step, 2);
  for (const t of b.filter((x) => x.task.step === 2)) await send(t);
  await waitFor(() => loadLatestCheckpoint(config.checkpoint.dir)?.state.step === 3, { what: 'the resumed learner trains step 2 on the groups of the tasks published before the restart', timeoutMs: 30_000 });
  assert.deepEqual((await publishedTasks(f)).map((t) => t.id), before, 'the re-published tasks were dropped as duplicates: same ids');
});
