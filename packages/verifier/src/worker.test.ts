/**
 * The decimal-comma policy per dataset, through a real verifier worker on a real nats-server: the
 * math reference's `decimalComma` flag decides how `3,5` is read, and a malformed flag is
 * dead-lettered with a reason naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, exampleGroup, packValue, Streams, Subjects, type Reference, type ScoredGroup } from '@acereason/protocol';
import { consume, createLogger, jetstreamClient, publishMessage, readDeadLetters } from '@acereason/transport';
import { natsFixture, waitFor } from '@acereason/testkit';
import { mathScorer } from './scorers.js';
import { VerifierWorker } from './worker.js';

const RUN = 'dcomma';

function group(id: string, reference: Reference, texts: string[]) {
  const g = exampleGroup({ runId: RUN, id, groupSize: texts.length, tokensPerResponse: 4 });
  return { ...g, reference, responses: g.responses.map((r, i) => ({ ...r, text: texts[i] as string })) };
}

test('verifier worker: a decimal-comma dataset scores 3,5 as 3.5, the default does not; a malformed flag is dead-lettered naming the field', async () => {
  await using f = await natsFixture();
  const logger = createLogger({ component: 'verifier-test', level: 'silent' });
  const worker = new VerifierWorker({ nc: f.nc, topology: f.topology, runId: RUN, workerId: 'dc-verifier', scorers: { math: mathScorer({ workers: 1 }) }, logger, ackWaitMs: 5000 });
  const running = worker.run();
  try {
    const js = jetstreamClient(f.nc);
    const subject = Subjects.trajectory(RUN, 'math');
    // With the decimal comma a dot not grouping three digits still reads as a decimal point, so 3.5 stays right.
    const responses = ['</think>\\boxed{3,5}', '</think>\\boxed{3.5}', '</think>\\boxed{35}'];
    await publishMessage(js, subject, codecs.TrajectoryGroup, group('comma', { type: 'math', answer: '3.5', decimalComma: true }, responses));
    await publishMessage(js, subject, codecs.TrajectoryGroup, group('default', { type: 'math', answer: '3.5' }, responses));
    const bad = group('bad-flag', { type: 'math', answer: '3.5' }, responses);
    const badAck = await js.publish(subject, packValue({ ...bad, reference: { type: 'math', answer: '3.5', decimalComma: 'yes' } }));

    const seen = new Map<string, ScoredGroup>();
    const scored = await consume(f.nc, { stream: Streams.SCORED, durable: 'dc_watch', filterSubject: Subjects.scored(RUN), codec: codecs.ScoredGroup, maxInFlight: 4 });
    const watch = (async () => {
      for await (const d of scored) {
        await d.ack();
        seen.set(d.value.id, d.value);
        if (seen.has('comma') && seen.has('default')) break;
      }
    })();
    await waitFor(() => seen.has('comma') && seen.has('default'), { what: 'both groups scored', timeoutMs: 60_000, intervalMs: 100 }).finally(() => scored.stop());
    await watch;

    const comma = seen.get('comma') as ScoredGroup;
    assert.deepEqual(comma.group.reference, { type: 'math', answer: '3.5', decimalComma: true }, 'the flag survives the wire');
    assert.deepEqual(comma.results.map((r) => r.reward), [1, 1, 0], `decimal comma: ${comma.results.map((r) => r.reason).join(' | ')}`);
    const dflt = seen.get('default') as ScoredGroup;
    assert.deepEqual(dflt.results.map((r) => r.reward), [0, 1, 0], `default: ${dflt.results.map((r) => r.reason).join(' | ')}`);

    const dead = await waitFor(async () => (await readDeadLetters(f.nc, { fromStream: Streams.TRAJECTORIES })).find((d) => d.seq === badAck.seq) ?? null, { what: 'the malformed group dead-lettered', timeoutMs: 30_000, intervalMs: 200 });
    assert.match(dead.reason, /reference\.decimalComma: expected a boolean/);
    assert.ok(!seen.has('bad-flag'), 'the malformed group was not scored');
  } finally {
    worker.stop();
    await running;
  }
});
