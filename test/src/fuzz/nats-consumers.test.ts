/**
 * Junk into every stream the services consume, through the real consumer and codec: random bytes
 * and mutations of valid messages, interleaved with valid ones. Every valid message is delivered
 * exactly once, every invalid one is dead-lettered with a reason, and the consumer keeps going.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, Consumers, exampleGroup, exampleScored, exampleTask, Streams, Subjects, type Codec, type StreamName } from '@acereason/protocol';
import { consume, jetstreamClient, readDeadLetters, type ConsumerEvent } from '@acereason/transport';
import { natsFixture, waitFor } from '@acereason/testkit';
import { iterations, mutate, rng, seedFor, withSeed, type MutationKind, MUTATIONS } from './random.js';

const RUN = 'fuzz1';

interface Target<T> {
  name: string;
  stream: StreamName;
  subject: string;
  filterSubject: string;
  durable: string;
  codec: Codec<T>;
  /** A valid message with this id. */
  valid: (id: string) => T;
}

function targets(): Target<unknown>[] {
  const list = [
    { name: 'TASKS (actors)', stream: Streams.TASKS, subject: Subjects.task(RUN, 'math'), filterSubject: Subjects.tasksOfRun(RUN), durable: Consumers.actors(RUN), codec: codecs.RolloutTask, valid: (id: string) => exampleTask({ runId: RUN, id }) },
    { name: 'TRAJECTORIES (verifiers)', stream: Streams.TRAJECTORIES, subject: Subjects.trajectory(RUN, 'math'), filterSubject: Subjects.trajectoriesOfDomain(RUN, 'math'), durable: Consumers.verifiers(RUN, 'math'), codec: codecs.TrajectoryGroup, valid: (id: string) => exampleGroup({ runId: RUN, id, groupSize: 4, tokensPerResponse: 16 }) },
    { name: 'SCORED (learner)', stream: Streams.SCORED, subject: Subjects.scored(RUN), filterSubject: Subjects.scored(RUN), durable: Consumers.learner(RUN), codec: codecs.ScoredGroup, valid: (id: string) => exampleScored({ runId: RUN, id, groupSize: 4, tokensPerResponse: 16 }) },
  ];
  return list as unknown as Target<unknown>[];
}

/** Decoding with the real codec is the oracle: a mutation that still decodes is a valid message. */
function decodes(codec: Codec<unknown>, bytes: Uint8Array): boolean {
  try {
    codec.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

for (const [k, target] of targets().entries()) {
  test(`fuzz NATS consumer ${target.name}: valid messages delivered once, junk dead-lettered, consumer keeps going`, async (t) => {
    const seed = seedFor(1000 + k);
    t.diagnostic(`seed ${seed}`);
    await withSeed(seed, async () => {
      const r = rng(seed);
      const n = iterations(300);
      await using f = await natsFixture();
      const js = jetstreamClient(f.nc);
      const expectValid = new Map<number, boolean>();
      const byKind = new Map<MutationKind | 'valid', number>();
      const pending: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const plain = target.valid(`m${i}`) as Record<string, unknown>;
        const encoded = target.codec.encode(plain);
        // Huge payloads are rarer: they cost a megabyte each.
        let kind: MutationKind | 'valid' = r.chance(0.25) ? 'valid' : r.pick(MUTATIONS);
        if (kind === 'huge_array' && !r.chance(0.3)) kind = 'bit_flip';
        const bytes = kind === 'valid' ? encoded : mutate(r, encoded, plain, kind);
        byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
        const ok = decodes(target.codec, bytes);
        pending.push(js.publish(target.subject, bytes).then((ack) => void expectValid.set(ack.seq, ok)));
        if (pending.length >= 64) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      assert.equal(expectValid.size, n, 'every input stored');
      const validCount = [...expectValid.values()].filter(Boolean).length;

      const c = await consume(f.nc, { stream: target.stream, durable: target.durable, filterSubject: target.filterSubject, codec: target.codec, maxInFlight: 8, ackWaitMs: 10_000 });
      const events: ConsumerEvent[] = [];
      c.onEvent((e) => events.push(e));
      const delivered = new Map<number, number>();
      let maxHeld = 0;
      const stopper = waitFor(() => c.counts.acked + c.counts.deadLettered >= n, { what: `all ${n} inputs settled`, timeoutMs: 90_000, intervalMs: 100 }).finally(() => c.stop());
      let thrown: unknown;
      try {
        for await (const d of c) {
          maxHeld = Math.max(maxHeld, c.held);
          delivered.set(d.streamSeq, (delivered.get(d.streamSeq) ?? 0) + 1);
          assert.ok(expectValid.get(d.streamSeq), `seq ${d.streamSeq} was delivered but does not decode`);
          await d.ack();
        }
      } catch (err) {
        thrown = err;
      }
      await stopper;
      assert.equal(thrown, undefined, `the consumer threw: ${String(thrown)}`);
      assert.ok(maxHeld <= 8, `held ${maxHeld} > maxInFlight`);

      const dead = (await readDeadLetters(f.nc, { fromStream: target.stream, limit: n + 10 })).filter((d) => expectValid.has(d.seq));
      const deadSeqs = new Map<number, number>();
      for (const d of dead) {
        deadSeqs.set(d.seq, (deadSeqs.get(d.seq) ?? 0) + 1);
        assert.ok(d.reason.length > 0, `dead letter ${d.seq} has a reason`);
      }
      for (const [seq, ok] of expectValid) {
        if (ok) {
          assert.equal(delivered.get(seq), 1, `valid seq ${seq} delivered exactly once`);
          assert.equal(deadSeqs.get(seq), undefined, `valid seq ${seq} not dead-lettered`);
        } else {
          assert.equal(deadSeqs.get(seq), 1, `invalid seq ${seq} dead-lettered exactly once`);
          assert.equal(delivered.get(seq), undefined, `invalid seq ${seq} never delivered`);
        }
      }
      assert.equal(c.counts.deadLettered, n - validCount);
      const kinds = [...byKind].map(([kk, v]) => `${kk}=${v}`).join(' ');
      t.diagnostic(`${target.name}: ${n} inputs fuzzed (${kinds}); ${validCount} valid delivered exactly once; ${dead.length} dead letters, all with a reason; fetch errors ${events.filter((e) => e.type === 'fetch_error').length}`);
    });
  });
}
