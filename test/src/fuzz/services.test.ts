/**
 * Junk into running service processes: a real verifier and a real actor get their input subjects
 * flooded with random and mutated messages, then a valid one. Each stays up, dead-letters every
 * input that does not decode (with a reason), and still does its work on the valid message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codecs, Consumers, exampleGroup, exampleTask, Keys, SCHEMA_VERSION, Streams, Subjects, WeightServiceDefinition, type ScoredGroup, type TrajectoryGroup } from '@acereason/protocol';
import { consume, jetstreamClient, makeSnapshot, publishMessage, readDeadLetters, service, startGrpcServer, weightServiceHandlers, WeightStore } from '@acereason/transport';
import { CharTokenizer, createOnnxEngine, DEMO_ALPHABET, DEMO_MODEL } from '@acereason/policy';
import { natsFixture, spawnChild, waitFor } from '@acereason/testkit';
import { iterations, mutate, rng, seedFor, withSeed, type MutationKind, MUTATIONS } from './random.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const VERIFIER_BIN = join(root, 'packages/verifier/dist/bin.js');
const ACTOR_BIN = join(root, 'packages/actor/dist/bin.js');
const RUN = 'fuzzsvc';

test('fuzz a verifier process: junk on its input subject is dead-lettered, the process stays up and scores a valid group after', async (t) => {
  const seed = seedFor(7000);
  t.diagnostic(`seed ${seed}`);
  await withSeed(seed, async () => {
    const r = rng(seed);
    const n = iterations(200);
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

test('fuzz an actor process: junk tasks are dead-lettered, the process stays up and generates for a valid task after', async (t) => {
  const seed = seedFor(8000);
  t.diagnostic(`seed ${seed}`);
  await withSeed(seed, async () => {
    const r = rng(seed);
    const n = iterations(200);
    await using f = await natsFixture();
    // What the learner would provide: weights over gRPC and the run spec in the KV bucket.
    const engine = await createOnnxEngine({ model: DEMO_MODEL, seed: 1, threads: 1 });
    const tensors = engine.exportWeights().map((x) => ({ name: x.name, dtype: 'F32', shape: x.shape, data: new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength) }));
    await engine.dispose();
    const snap = makeSnapshot(RUN, 1, tensors);
    const store = new WeightStore(2);
    store.put(snap);
    await using grpc = await startGrpcServer({ address: '127.0.0.1:0', services: [service(WeightServiceDefinition, weightServiceHandlers(store))] });
    await f.topology.runState.put(Keys.runSpec(RUN), codecs.RunSpec.encode({
      schema: SCHEMA_VERSION, kind: 'RunSpec', runId: RUN, id: 'spec', createdAtMs: Date.now(), model: DEMO_MODEL,
      tokenizer: { kind: 'char', alphabet: DEMO_ALPHABET }, learnerAddress: grpc.address, seed: 1,
    }));
    await using actor = spawnChild({
      name: 'actor', command: process.execPath,
      args: [ACTOR_BIN, '--run', RUN, '--nats', f.server.url, '--id', 'fuzz-actor', '--ack-wait-ms', '5000'],
      env: { ...process.env, ACEREASON_LOG_PRETTY: '0', ACEREASON_LOG_LEVEL: 'error' },
    });
    await waitFor(async () => (await f.topology.jsm.consumers.info(Streams.TASKS, Consumers.actors(RUN)).catch(() => null)) !== null || !actor.running, { what: 'the actor to create its consumer', timeoutMs: 60_000 });
    assert.ok(actor.running, `the actor exited at start; output:\n${actor.output.slice(-3000)}`);

    const js = jetstreamClient(f.nc);
    const subject = Subjects.task(RUN, 'math');
    const invalidSeqs = new Set<number>();
    const byKind = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const plain = exampleTask({ runId: RUN, id: `junk${i}` }) as unknown as Record<string, unknown>;
      const encoded = codecs.RolloutTask.encode(plain as never);
      let kind: MutationKind = r.pick(MUTATIONS);
      if (kind === 'huge_array' && !r.chance(0.3)) kind = 'truncate';
      let bytes = mutate(r, encoded, plain, kind);
      let ok = true;
      try {
        codecs.RolloutTask.decode(bytes);
      } catch {
        ok = false;
      }
      // A mutation that still decodes would be real work (or a wait for weights that never come): keep only junk.
      if (ok) bytes = new Uint8Array(0);
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      const ack = await js.publish(subject, bytes);
      invalidSeqs.add(ack.seq);
    }
    const tok = new CharTokenizer(DEMO_ALPHABET);
    const valid = exampleTask({ runId: RUN, id: 'after-the-flood', groupSize: 2 });
    await publishMessage(js, subject, codecs.RolloutTask, {
      ...valid, promptTokens: Uint32Array.from(tok.encode('q:1+2=')), policyVersion: 1, weightsSha256: snap.manifest.weightsSha256,
      sampling: { ...valid.sampling, maxNewTokens: 6, stopTokens: [tok.eosTokenId] },
    });

    const out = await consume(f.nc, { stream: Streams.TRAJECTORIES, durable: 'fuzz_watch', filterSubject: Subjects.trajectoriesOfDomain(RUN, 'math'), codec: codecs.TrajectoryGroup, maxInFlight: 4 });
    let found: TrajectoryGroup | undefined;
    const watch = (async () => {
      for await (const d of out) {
        await d.ack();
        if (d.value.id === 'after-the-flood') {
          found = d.value;
          break;
        }
      }
    })();
    await waitFor(() => found !== undefined || !actor.running, { what: 'a trajectory group for the valid task', timeoutMs: 90_000, intervalMs: 100 }).finally(() => out.stop());
    await watch;
    assert.ok(actor.running, `the actor process exited; output:\n${actor.output.slice(-3000)}`);
    assert.equal(found?.responses.length, 2);
    const dead = await waitFor(async () => {
      const all = (await readDeadLetters(f.nc, { fromStream: Streams.TASKS, limit: n + 10 })).filter((d) => invalidSeqs.has(d.seq));
      return all.length >= invalidSeqs.size ? all : null;
    }, { what: `${invalidSeqs.size} dead letters`, timeoutMs: 30_000, intervalMs: 500 });
    assert.ok(dead.every((d) => d.reason.length > 0));
    assert.equal(new Set(dead.map((d) => d.seq)).size, invalidSeqs.size, 'each junk task dead-lettered exactly once');
    t.diagnostic(`actor process: ${n} junk tasks (${[...byKind].map(([k, v]) => `${k}=${v}`).join(' ')}); all dead-lettered with a reason; the process stayed up and generated for the valid task after the flood`);
  });
});
