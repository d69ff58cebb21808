/**
 * Junk into a running service process: a real verifier process gets its input subject flooded with
 * random and mutated trajectory groups, then a valid one. It stays up, dead-letters every input
 * that does not decode (with a reason), and still scores the valid group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codecs, Consumers, exampleGroup, Streams, Subjects, type ScoredGroup } from '@acereason/protocol';
import { consume, jetstreamClient, publishMessage, readDeadLetters } from '@acereason/transport';
import { natsFixture, spawnChild, waitFor } from '@acereason/testkit';
import { iterations, mutate, rng, seedFor, withSeed, type MutationKind, MUTATIONS } from './random.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const VERIFIER_BIN = join(root, 'packages/verifier/dist/bin.js');
const RUN = 'fuzzsvc';

test('fuzz a verifier process: junk on its input subject is dead-lettered, the process stays up and scores a valid group after', async (t) => {
  const seed = seedFor(7000);
  t.diagnostic(`seed ${seed}`);
  await withSeed(seed, async () => {
    const r = rng(seed);
    const n = iterations(300);
    await using f = await natsFixture();
    await using verifier = spawnChild({
      name: 'verifier', command: process.execPath,
      args: [VERIFIER_BIN, '--run', RUN, '--nats', f.server.url, '--id', 'fuzz-verifier', '--domain', 'math', '--ack-wait-ms', '5000', '--concurrency', '4'],
      env: { ...process.env, ACEREASON_LOG_PRETTY: '0', ACEREASON_LOG_LEVEL: 'error' },
    });
    await waitFor(async () => (await f.topology.jsm.consumers.info(Streams.TRAJECTORIES, Consumers.verifiers(RUN, 'math')).catch(() => null)) !== null, { what: 'the verifier to create its consumer', timeoutMs: 30_000 });

    const js = jetstreamClient(f.nc);
    const subject = Subjects.trajectory(RUN, 'math');
    const invalidSeqs = new Set<number>();
    const byKind = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const plain = exampleGroup({ runId: RUN, id: `junk${i}`, groupSize: 2, tokensPerResponse: 8 }) as unknown as Record<string, unknown>;
      const encoded = codecs.TrajectoryGroup.encode(plain as never);
      let kind: MutationKind = r.pick(MUTATIONS);
      if (kind === 'huge_array' && !r.chance(0.3)) kind = 'truncate';
      const bytes = mutate(r, encoded, plain, kind);
      let ok = true;
      try {
        codecs.TrajectoryGroup.decode(bytes);
      } catch {
        ok = false;
      }
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      const ack = await js.publish(subject, bytes);
      if (!ok) invalidSeqs.add(ack.seq);
    }
    await publishMessage(js, subject, codecs.TrajectoryGroup, exampleGroup({ runId: RUN, id: 'after-the-flood', groupSize: 4, tokensPerResponse: 8 }));

    const scored = await consume(f.nc, { stream: Streams.SCORED, durable: 'fuzz_watch', filterSubject: Subjects.scored(RUN), codec: codecs.ScoredGroup, maxInFlight: 16 });
    let found: ScoredGroup | undefined;
    const watch = (async () => {
      for await (const d of scored) {
        await d.ack();
        if (d.value.id === 'after-the-flood') {
          found = d.value;
          break;
        }
      }
    })();
    await waitFor(() => found !== undefined || !verifier.running, { what: 'the valid group to be scored', timeoutMs: 90_000, intervalMs: 100 }).finally(() => scored.stop());
    await watch;
    assert.ok(verifier.running, `the verifier process exited; output:\n${verifier.output.slice(-3000)}`);
    assert.equal(found?.results.length, 4);

    const dead = await waitFor(async () => {
      const all = (await readDeadLetters(f.nc, { fromStream: Streams.TRAJECTORIES, limit: n + 10 })).filter((d) => invalidSeqs.has(d.seq));
      return all.length >= invalidSeqs.size ? all : null;
    }, { what: `${invalidSeqs.size} dead letters`, timeoutMs: 30_000, intervalMs: 500 });
    assert.ok(dead.every((d) => d.reason.length > 0));
    assert.equal(new Set(dead.map((d) => d.seq)).size, invalidSeqs.size, 'each invalid input dead-lettered exactly once');
    assert.ok(verifier.running, 'still running at the end');
    t.diagnostic(`verifier process: ${n} junk inputs (${[...byKind].map(([k, v]) => `${k}=${v}`).join(' ')}); ${invalidSeqs.size} undecodable, all dead-lettered with a reason; the process stayed up and scored the valid group after the flood`);
  });
});
