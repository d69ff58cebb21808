/**
 * The StepLedger, the one slot table, publishing to a real nats-server: slots filled once, forged
 * groups refused and their slot re-issued, timed-out slots re-issued, over-sampling when groups
 * carry no signal (bounded), resume from a checkpoint, and stale groups after a step is trained.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleScored, type RolloutTask } from '@acereason/protocol';
import { natsFixture, waitFor } from '@acereason/testkit';
import { MAX_OVERSAMPLE_ROUNDS } from './step-ledger.js';
import { answer, loopConfig, makeLedger, publishedTasks, SHA, stepOf } from './ledger-testkit.js';

const key = (t: RolloutTask): string => `${t.task.step}.${t.task.slot}.${t.task.retry}`;
const findTask = async (f: Parameters<typeof publishedTasks>[0], k: string): Promise<RolloutTask> => {
  let found: RolloutTask | undefined;
  await waitFor(async () => (found = (await publishedTasks(f)).find((t) => key(t) === k)) !== undefined, { what: `task ${k}`, timeoutMs: 10_000 });
  return found as RolloutTask;
};
const never = new AbortController().signal;
const signal = [1, 0, 1, 0];
const flat = [1, 1, 1, 1];

test('the ledger fills each slot once; a forged group is refused and its slot re-issued; a slot that times out is re-issued; a trained step is stale', async () => {
  await using f = await natsFixture();
  const config = loopConfig();
  const stage = config.stages[0] as (typeof config.stages)[number];
  const ledger = makeLedger(f, config);
  const early = exampleScored({ runId: 'x', id: 'early' });
  early.task = early.group.task = { step: 0, slot: 0, retry: 0, purpose: { kind: 'train' } };
  assert.equal(ledger.offer(early), 'early', 'a group before its step is registered waits');

  await ledger.ensurePublished(0, 1, (s) => stepOf(s, [2 * s, 2 * s + 1]));
  const tasks = await publishedTasks(f);
  assert.deepEqual(tasks.map(key), ['0.0.0', '0.1.0', '1.0.0', '1.1.0']);
  assert.deepEqual(tasks.map((t) => t.promptId), ['p0', 'p1', 'p2', 'p3']);
  assert.ok(tasks.every((t) => t.policyVersion === 0 && t.weightsSha256 === SHA));
  const [t00, t01, t10, t11] = tasks as [RolloutTask, RolloutTask, RolloutTask, RolloutTask];

  assert.equal(ledger.offer(answer(t00, signal)), 'accepted');
  assert.equal(ledger.offer(answer(t00, flat)), 'duplicate', 'the first group of a slot wins');
  assert.equal(ledger.offer(answer(t01, signal, 'f'.repeat(64))), 'rejected', 'weights that are not the stamped version');
  assert.equal(ledger.reissued, 1);
  assert.deepEqual(ledger.get(0)?.retries, [0, 1]);
  const t01r1 = await findTask(f, '0.1.1');
  assert.equal(t01r1.promptId, 'p1', 'the same prompt, the next retry round');
  assert.deepEqual(ledger.missingSlots(0), [1], 'the forged group left its slot open');
  assert.equal(ledger.offer({ ...answer(t01, signal), id: 'not-a-published-task' }), 'stale');
  assert.equal(ledger.offer(answer(t01r1, signal)), 'accepted');
  assert.equal(ledger.offer(answer(t01, signal)), 'duplicate', 'the earlier round of a filled slot');
  await ledger.collect(0, stage, () => assert.fail('no over-sampling: both groups have signal'), 60_000, never);
  assert.deepEqual(ledger.groups(0).map((g) => g.id), [t00.id, t01r1.id]);

  // Step 1: slot 1 never answers; after the step timeout it is re-issued, and its new task's group completes the step.
  assert.equal(ledger.offer(answer(t10, signal)), 'accepted');
  const collecting = ledger.collect(1, stage, () => [], 300, never);
  const t11r1 = await findTask(f, '1.1.1');
  assert.equal(t11r1.promptId, t11.promptId);
  assert.equal(ledger.offer(answer(t11r1, signal)), 'accepted');
  await collecting;
  assert.ok(ledger.reissued >= 2);
  assert.deepEqual(ledger.snapshot().map((p) => p.step), [0, 1]);
  assert.deepEqual(ledger.stamps(), [{ version: 0, sha256: SHA }, { version: 0, sha256: SHA }]);

  ledger.finish(0);
  assert.equal(ledger.get(0), undefined);
  assert.equal(ledger.offer(answer(t00, signal)), 'stale', 'a group of a trained step');
  assert.equal(ledger.offer(early), 'stale');
  ledger.dropFrom(1);
  assert.deepEqual(ledger.snapshot(), [], 'steps published ahead are abandoned on a stage change');
});

test('too few groups with a learning signal: the ledger over-samples prompts the scheduler draws, at most MAX_OVERSAMPLE_ROUNDS rounds', async () => {
  await using f = await natsFixture();
  const config = loopConfig({ oversample: 1 });
  const stage = config.stages[0] as (typeof config.stages)[number];
  const ledger = makeLedger(f, config);
  await ledger.ensurePublished(0, 0, () => stepOf(0, [0, 1]));
  const answered = new Set<string>();
  // A verifier stand-in answering every task as it appears: prompts below 4 with equal rewards (no signal), the rest with signal.
  const answerAll = async (): Promise<void> => {
    for (const t of await publishedTasks(f)) {
      if (answered.has(t.id)) continue;
      answered.add(t.id);
      ledger.offer(answer(t, Number(t.promptId.slice(1)) < 4 ? flat : signal));
    }
  };
  const draws: number[] = [];
  let next = 2;
  const timer = setInterval(() => void answerAll(), 50);
  try {
    await ledger.collect(0, stage, (n) => {
      draws.push(n);
      return Array.from({ length: n }, () => next++ % 12);
    }, 60_000, never);
  } finally {
    clearInterval(timer);
  }
  // 0 usable of 2 planned: (2 - 0) x (1 + 1) = 4 more; prompts 2, 3 are flat again, 4 and 5 have signal: 2 usable, done.
  assert.deepEqual(draws, [4]);
  assert.deepEqual(ledger.get(0)?.prompts, [0, 1, 2, 3, 4, 5]);
  assert.equal(ledger.groups(0).length, 6);

  // A step whose groups never carry signal stops over-sampling after MAX_OVERSAMPLE_ROUNDS rounds.
  const flatLedger = makeLedger(f, config);
  await flatLedger.ensurePublished(1, 1, () => stepOf(1, [0, 1]));
  const flatDraws: number[] = [];
  const flatTimer = setInterval(() => void (async () => {
    for (const t of await publishedTasks(f)) if (t.task.step === 1 && !answered.has(t.id)) {
      answered.add(t.id);
      flatLedger.offer(answer(t, flat));
    }
  })(), 50);
  try {
    await flatLedger.collect(1, stage, (n) => {
      flatDraws.push(n);
      return Array.from({ length: n }, (_, i) => i);
    }, 60_000, never);
  } finally {
    clearInterval(flatTimer);
  }
  assert.equal(flatDraws.length, MAX_OVERSAMPLE_ROUNDS);
  assert.equal(flatLedger.get(1)?.prompts.length, 2 + 4 * MAX_OVERSAMPLE_ROUNDS);
});

test('a resumed ledger holds groups until it registers its checkpointed steps, then re-publishes them under the same identities', async () => {
  await using f = await natsFixture();
  const config = loopConfig();
  let registered = 0;
  const resumed = { ...stepOf(4, [7, 8]), retries: [0, 2] };
  const ledger = makeLedger(f, config, { onRegistered: () => registered++ }, [resumed]);
  assert.deepEqual(ledger.snapshot(), [resumed]);
  await ledger.ensurePublished(4, 4, () => assert.fail('a checkpointed step is not drawn again'));
  assert.equal(registered, 1);
  const tasks = await publishedTasks(f);
  assert.deepEqual(tasks.map(key), ['4.0.0', '4.1.2']);
  assert.deepEqual(tasks.map((t) => t.promptId), ['p7', 'p8']);
  assert.equal(ledger.offer(answer(tasks[1] as RolloutTask, signal)), 'accepted');
  assert.deepEqual(ledger.missingSlots(4), [0]);
});
