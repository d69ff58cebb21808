/**
 * The StepCollector fed by a real durable consumer on a real nats-server, routing to a real
 * StepLedger: accepted deliveries held until the checkpoint acks them (a redelivery of one too),
 * groups that come before their step held until it registers, evals to their handler, everything
 * else acked at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, Consumers, exampleScored, Streams, Subjects, type RolloutTask, type ScoredGroup } from '@acereason/protocol';
import { consume, jetstreamClient, publishMessage } from '@acereason/transport';
import { natsFixture, waitFor } from '@acereason/testkit';
import { StepCollector, type Verdict } from './collector.js';
import { taskMessageId } from './tasks.js';
import { answer, loopConfig, makeLedger, publishedTasks, RUN, SHA, stepOf } from './ledger-testkit.js';

const rewards = [1, 0, 1, 0];

test('the collector holds accepted deliveries until a checkpoint acks them, holds early groups until their step registers, and acks the rest at once', async () => {
  await using f = await natsFixture();
  const js = jetstreamClient(f.nc);
  const publish = (g: ScoredGroup, msgId?: string) => publishMessage(js, Subjects.scored(RUN), codecs.ScoredGroup, g, msgId ? { msgId } : {});
  const forged = 'f'.repeat(64);
  const ledger = makeLedger(f, loopConfig(), { onRegistered: () => collector.replayEarly() });
  const collector = new StepCollector(ledger);
  const verdicts: [string, Verdict][] = [];
  collector.onGroup((g, v) => verdicts.push([g.id, v]));
  // A short lease, so the server redelivers what the collector holds unacked.
  const consumer = await consume(f.nc, { stream: Streams.SCORED, durable: Consumers.learner(RUN), filterSubject: Subjects.scored(RUN), codec: codecs.ScoredGroup, maxInFlight: 64, maxAckPending: 64, ackWaitMs: 1500, maxDeliver: 100 });
  const pumping = collector.pump(consumer);
  const pendingAcks = async () => (await f.topology.jsm.consumers.info(Streams.SCORED, Consumers.learner(RUN))).num_ack_pending;
  try {
    await ledger.ensurePublished(0, 0, () => stepOf(0, [0, 1]));
    const [t00, t01] = (await publishedTasks(f)) as [RolloutTask, RolloutTask];
    await publish(answer(t01, rewards));
    await publish(answer(t00, rewards, forged));
    await publish(answer(t01, rewards), 'copy-of-t01');
    // Step 1 is not registered yet: its group waits for it (its task id is the one the ledger will publish).
    const early = answer({ ...t00, id: taskMessageId(RUN, { step: 1, slot: 0, retry: 0, purpose: { kind: 'train' } }, { version: 0, sha256: SHA, stage: { index: 0, enteredAt: 0 } }), task: { step: 1, slot: 0, retry: 0, purpose: { kind: 'train' } } }, rewards);
    await publish(early);
    await waitFor(() => verdicts.length >= 3, { what: 'three verdicts', timeoutMs: 10_000 });
    assert.deepEqual(verdicts, [[t01.id, 'accepted'], [t00.id, 'rejected'], [t01.id, 'duplicate']]);
    // The forged group's slot was re-issued; its new task's group fills it.
    let t00r1: RolloutTask | undefined;
    await waitFor(async () => (t00r1 = (await publishedTasks(f)).find((t) => t.task.slot === 0 && t.task.retry === 1)) !== undefined, { what: 'the re-issued task', timeoutMs: 10_000 });
    await publish(answer(t00r1 as RolloutTask, rewards));
    await waitFor(() => ledger.filled(0) === 2, { what: 'step 0 filled', timeoutMs: 10_000 });

    // Held deliveries outlive their lease: the server redelivers them, and the collector keeps holding them (no ack, no new verdict).
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(verdicts.length, 4, 'a redelivery of a held group is not a new group');
    assert.equal(await pendingAcks(), 3, 'both accepted groups and the early one are still unacked');

    await ledger.ensurePublished(1, 1, () => stepOf(1, [2, 3]));
    assert.equal(ledger.filled(1), 1, 'the early group was offered again when its step registered');
    assert.equal(collector.held, 3, 'accepted groups stay unacked');

    // An eval group goes to its handler and is acked at once; one nobody waits for is acked and dropped.
    const evals: string[] = [];
    const release = collector.expectEval(['e0'], (g) => evals.push(g.id));
    const evalGroup = (id: string) => {
      const g = exampleScored({ runId: RUN, id });
      g.task = g.group.task = { step: 1, slot: 0, retry: 0, purpose: { kind: 'eval', dataset: 'held', round: 1 } };
      return g;
    };
    await publish(evalGroup('e0'));
    await publish(evalGroup('e-orphan'));
    await waitFor(() => evals.length === 1, { what: 'the eval group', timeoutMs: 10_000 });
    release();
    assert.deepEqual(evals, ['e0']);

    // Step 0 trained: a late copy of its group is stale; a checkpoint through step 0 acks its groups only.
    ledger.finish(0);
    await publish(answer(t00, rewards), 'late-copy-of-t00');
    await waitFor(() => verdicts.some(([, v]) => v === 'stale'), { what: 'the late group', timeoutMs: 10_000 });
    await waitFor(async () => (await pendingAcks()) === 3, { what: 'only the held groups unacked', timeoutMs: 10_000 });
    assert.ok((await collector.ackThrough(0)) >= 2, "step 0's deliveries (and their redeliveries) acked");
    await waitFor(async () => (await pendingAcks()) === 1, { what: "step 0's groups acked", timeoutMs: 10_000 });
    assert.ok(collector.held >= 1);
    assert.deepEqual(collector.counts, { accepted: 3, duplicates: 1, stale: 1, rejected: 1 });
  } finally {
    consumer.stop();
    await pumping;
  }
});
