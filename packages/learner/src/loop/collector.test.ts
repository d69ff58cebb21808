/**
 * The StepCollector fed by a real durable consumer on a real nats-server: slots, duplicates,
 * groups that come before their step, stale and forged groups, evals, and acks held until the
 * checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, Consumers, exampleScored, Streams, Subjects, type ScoredGroup, type TaskIdentity } from '@acereason/protocol';
import { consume, jetstreamClient, publishMessage } from '@acereason/transport';
import { natsFixture, waitFor } from '@acereason/testkit';
import { StepCollector, type Verdict } from './collector.js';

const RUN = 'coltest';

function scored(id: string, task: TaskIdentity, sha = 'ab'.repeat(32)): ScoredGroup {
  const sg = exampleScored({ runId: RUN, id, groupSize: 2, tokensPerResponse: 4 });
  sg.task = sg.group.task = task;
  sg.group.weightsSha256 = sha;
  return sg;
}
const train = (step: number, slot: number, retry = 0): TaskIdentity => ({ step, slot, retry, purpose: { kind: 'train' } });

test('the collector fills each slot once, holds early groups, drops stale and forged ones, and acks only what a checkpoint covers', async () => {
  await using f = await natsFixture();
  const js = jetstreamClient(f.nc);
  const publish = (g: ScoredGroup) => publishMessage(js, Subjects.scored(RUN), codecs.ScoredGroup, g);
  const forged = 'f'.repeat(64);
  const collector = new StepCollector((g) => g.group.weightsSha256 !== forged);
  const verdicts: [string, Verdict][] = [];
  collector.onGroup((g, v) => verdicts.push([g.id, v]));
  const consumer = await consume(f.nc, { stream: Streams.SCORED, durable: Consumers.learner(RUN), filterSubject: Subjects.scored(RUN), codec: codecs.ScoredGroup, maxInFlight: 64, maxAckPending: 64 });
  const pumping = collector.pump(consumer);
  const pendingAcks = async () => (await f.topology.jsm.consumers.info(Streams.SCORED, Consumers.learner(RUN))).num_ack_pending;
  try {
    collector.expect(0, [{ taskId: 's0-0', slot: 0 }, { taskId: 's0-1', slot: 1 }, { taskId: 's0-1-r1', slot: 1 }], 2);
    await publish(scored('s0-1', train(0, 1)));
    await publish(scored('s0-0', train(0, 0), forged));
    await publish(scored('s0-1-r1', train(0, 1, 1)));
    // Step 1 is not registered yet: its group waits for it.
    await publish(scored('s1-0', train(1, 0)));
    await waitFor(() => verdicts.length >= 3, { what: 'three verdicts', timeoutMs: 10_000 });
    assert.deepEqual(verdicts, [['s0-1', 'accepted'], ['s0-0', 'rejected'], ['s0-1-r1', 'duplicate']]);
    assert.equal(collector.filled(0), 1);
    assert.deepEqual(collector.missingSlots(0, 2), [0], 'the forged group leaves its slot open for a re-issue');
    // The re-issued task fills the slot; waitFor wakes on it.
    collector.expect(0, [{ taskId: 's0-0-r1', slot: 0 }], 2);
    const filled = collector.waitFor(0, () => collector.filled(0) >= 2, 10_000);
    await publish(scored('s0-0-r1', train(0, 0, 1)));
    assert.equal(await filled, true);
    assert.deepEqual(collector.groups(0).map((g) => g?.id), ['s0-0-r1', 's0-1']);
    collector.expect(1, [{ taskId: 's1-0', slot: 0 }], 1);
    assert.equal(collector.filled(1), 1, 'the early group was routed when its step registered');
    assert.equal(collector.held, 3, 'accepted groups stay unacked');
    // An eval group goes to its handler and is acked at once; one nobody waits for is acked and dropped.
    const evals: string[] = [];
    const release = collector.expectEval(['e0'], (g) => evals.push(g.id));
    await publish(scored('e0', { step: 1, slot: 0, retry: 0, purpose: { kind: 'eval', dataset: 'held', round: 1 } }));
    await publish(scored('e-orphan', { step: 1, slot: 1, retry: 0, purpose: { kind: 'eval', dataset: 'held', round: 1 } }));
    await waitFor(() => evals.length === 1, { what: 'the eval group', timeoutMs: 10_000 });
    release();
    assert.deepEqual(evals, ['e0']);
    // Step 0 trained: a late copy of its group is stale; a checkpoint through step 0 acks its groups only.
    collector.finish(0);
    await publish(scored('s0-late', train(0, 0, 2)));
    await waitFor(() => verdicts.some(([id]) => id === 's0-late'), { what: 'the late group', timeoutMs: 10_000 });
    assert.deepEqual(verdicts.at(-1), ['s0-late', 'stale']);
    await waitFor(async () => (await pendingAcks()) === 3, { what: 'only the held groups unacked', timeoutMs: 10_000 });
    assert.equal(await collector.ackThrough(0), 2);
    await waitFor(async () => (await pendingAcks()) === 1, { what: "step 0's groups acked", timeoutMs: 10_000 });
    assert.equal(collector.held, 1);
    assert.deepEqual(collector.counts, { accepted: 3, duplicates: 1, stale: 1, rejected: 1 });
  } finally {
    consumer.stop();
    await pumping;
  }
});
