/**
 * The verifier worker against a real nats-server with the real math verifier: what it publishes
 * for a group, and what it does with a group it cannot score.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, Consumers, exampleGroup, Streams, Subjects, type ScoredGroup, type TrajectoryGroup } from '@acereason/protocol';
import { consume, jetstreamClient, publishMessage, readDeadLetters, silentLogger } from '@acereason/transport';
import { natsFixture, waitFor } from '@acereason/testkit';
import { mathScorer } from './scorers.js';
import { VerifierWorker } from './worker.js';

const RUN = 'vertest';

function mathGroup(id: string, texts: string[]): TrajectoryGroup {
  const g = exampleGroup({ runId: RUN, id, groupSize: texts.length, tokensPerResponse: 4 });
  g.task = { step: 7, slot: 2, retry: 1, purpose: { kind: 'train' } };
  g.responses.forEach((r, i) => (r.text = texts[i] ?? ''));
  return g;
}

test('the verifier scores every response of a group, keeps the identity and acks only after publishing; an unscorable group is dead-lettered with the reason', async () => {
  await using f = await natsFixture();
  const worker = new VerifierWorker({ nc: f.nc, topology: f.topology, runId: RUN, workerId: 'ver-t', scorers: { math: mathScorer({ workers: 1 }) }, logger: silentLogger(), ackWaitMs: 20_000 });
  const running = worker.run();
  const scored: ScoredGroup[] = [];
  const out = await consume(f.nc, { stream: Streams.SCORED, durable: 'watch', filterSubject: Subjects.scored(RUN), codec: codecs.ScoredGroup, maxInFlight: 8 });
  const watching = (async () => {
    for await (const d of out) {
      scored.push(d.value);
      await d.ack();
    }
  })();
  try {
    const js = jetstreamClient(f.nc);
    const good = mathGroup('g-math', ['so \\boxed{1/2}', 'it is \\boxed{3}', 'I do not know']);
    const wrongReference = { ...mathGroup('g-code-ref', ['\\boxed{1}']), reference: { type: 'code' as const, tests: { dataset: 'd', promptId: 'p', sha256: 'a'.repeat(64), bytes: 10 } } };
    await publishMessage(js, Subjects.trajectory(RUN, 'math'), codecs.TrajectoryGroup, wrongReference);
    await publishMessage(js, Subjects.trajectory(RUN, 'math'), codecs.TrajectoryGroup, good);
    await waitFor(() => scored.length >= 1, { what: 'the scored group', timeoutMs: 30_000 });
    const [s] = scored;
    assert.equal(s?.id, 'g-math');
    assert.deepEqual(s?.task, good.task, 'the identity travels unchanged');
    assert.deepEqual(s?.results.map((r) => [r.status, r.reward, r.correct]), [['correct', 1, true], ['wrong', 0, false], ['no_answer', 0, false]]);
    assert.equal(s?.verifierId, 'ver-t');
    const dead = await waitFor(async () => (await readDeadLetters(f.nc, { fromStream: Streams.TRAJECTORIES })).find((d) => d.reason.length > 0), { what: 'the dead letter', timeoutMs: 10_000 });
    assert.match(dead.reason, /^cannot score: reference: a math group with a code reference/);
    await waitFor(async () => (await f.topology.jsm.consumers.info(Streams.TRAJECTORIES, Consumers.verifiers(RUN, 'math'))).num_ack_pending === 0, { what: 'both groups settled', timeoutMs: 10_000 });
    assert.equal(scored.length, 1, 'nothing published for the unscorable group');
  } finally {
    worker.stop();
    await running;
    out.stop();
    await watching;
  }
  assert.equal(worker.state, 'stopped');
});
