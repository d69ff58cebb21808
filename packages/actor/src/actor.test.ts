/**
 * The actor against a real nats-server, a real WeightService over gRPC and the real ONNX engine:
 * which weights a task is generated with, what a stale task does, and the group it publishes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, exampleTask, SCHEMA_VERSION, Streams, Subjects, WeightServiceDefinition, type RolloutTask, type RunSpec, type TrajectoryGroup } from '@acereason/protocol';
import { consume, jetstreamClient, makeSnapshot, publishMessage, service, silentLogger, startGrpcServer, weightServiceHandlers, WeightStore, type WeightSnapshot } from '@acereason/transport';
import { CharTokenizer, createOnnxEngine, DEMO_ALPHABET, DEMO_MODEL, type PolicyEngine } from '@acereason/policy';
import { natsFixture, waitFor, type NatsFixture } from '@acereason/testkit';
import { Actor } from './actor.js';

const RUN = 'actortest';
const tok = new CharTokenizer(DEMO_ALPHABET);

async function weightsOf(seed: number, version: number): Promise<WeightSnapshot> {
  const e = await createOnnxEngine({ model: DEMO_MODEL, seed, threads: 1 });
  try {
    return makeSnapshot(RUN, version, e.exportWeights().map((x) => ({ name: x.name, dtype: 'F32', shape: x.shape, data: new Uint8Array(x.data.buffer.slice(x.data.byteOffset, x.data.byteOffset + x.data.byteLength)) })));
  } finally {
    await e.dispose();
  }
}

function taskFor(snap: WeightSnapshot, slot: number): RolloutTask {
  const t = exampleTask({ runId: RUN, id: `${RUN}.t.${snap.manifest.version}.${slot}`, groupSize: 2 });
  return {
    ...t, task: { step: snap.manifest.version, slot, retry: 0, purpose: { kind: 'train' } },
    promptTokens: Uint32Array.from(tok.encode('q:1+2=')), policyVersion: snap.manifest.version, weightsSha256: snap.manifest.weightsSha256,
    sampling: { ...t.sampling, maxNewTokens: 4, stopTokens: [tok.eosTokenId] },
  };
}

interface Rig extends AsyncDisposable {
  f: NatsFixture;
  engine: PolicyEngine;
  groups: TrajectoryGroup[];
  publish(t: RolloutTask): Promise<void>;
}

/** A run with the given versions served, one actor running, and a watcher collecting its groups. */
async function rig(store: WeightStore): Promise<Rig> {
  const f = await natsFixture();
  const grpc = await startGrpcServer({ address: '127.0.0.1:0', services: [service(WeightServiceDefinition, weightServiceHandlers(store))] });
  const spec: RunSpec = { schema: SCHEMA_VERSION, kind: 'RunSpec', runId: RUN, id: 'spec', createdAtMs: Date.now(), model: DEMO_MODEL, tokenizer: { kind: 'char', alphabet: DEMO_ALPHABET }, learnerAddress: grpc.address, seed: 1 };
  const engine = await createOnnxEngine({ model: DEMO_MODEL, seed: 99, threads: 1 });
  const actor = new Actor({ nc: f.nc, topology: f.topology, spec, engine, tokenizer: tok, actorId: 'actor-t', logger: silentLogger(), ackWaitMs: 20_000 });
  const running = actor.run();
  const groups: TrajectoryGroup[] = [];
  const out = await consume(f.nc, { stream: Streams.TRAJECTORIES, durable: 'watch', filterSubject: Subjects.trajectoriesOfDomain(RUN, 'math'), codec: codecs.TrajectoryGroup, maxInFlight: 8 });
  const watching = (async () => {
    for await (const d of out) {
      groups.push(d.value);
      await d.ack();
    }
  })();
  const js = jetstreamClient(f.nc);
  return {
    f, engine, groups,
    publish: async (t) => void (await publishMessage(js, Subjects.task(RUN, t.domain), codecs.RolloutTask, t)),
    async [Symbol.asyncDispose]() {
      actor.stop();
      await running;
      out.stop();
      await watching;
      await engine.dispose();
      await grpc.close(100);
      await f[Symbol.asyncDispose]();
    },
  };
}

test('a look-ahead task stamped with version 0 is generated with version 0 even after version 1 is served', async () => {
  const v0 = await weightsOf(1, 0);
  const v1 = await weightsOf(2, 1);
  assert.notEqual(v0.manifest.weightsSha256, v1.manifest.weightsSha256);
  const store = new WeightStore(4);
  store.put(v0);
  store.put(v1);
  await using r = await rig(store);
  // The actor moves to version 1 first, then gets the task that was published ahead under version 0.
  await r.publish(taskFor(v1, 0));
  await waitFor(() => r.groups.length >= 1, { what: 'the version-1 group', timeoutMs: 60_000, intervalMs: 50 });
  await r.publish(taskFor(v0, 1));
  await waitFor(() => r.groups.length >= 2, { what: 'the version-0 group', timeoutMs: 60_000, intervalMs: 50 });
  const [first, second] = r.groups;
  assert.deepEqual([first?.policyVersion, first?.weightsSha256], [1, v1.manifest.weightsSha256]);
  assert.deepEqual([second?.policyVersion, second?.weightsSha256], [0, v0.manifest.weightsSha256], 'served the version it was stamped with');
  assert.deepEqual(second?.task, { step: 0, slot: 1, retry: 0, purpose: { kind: 'train' } }, 'the identity travels unchanged');
  assert.equal(second?.responses.length, 2);
  assert.ok(second?.responses.every((x) => x.tokens.length === x.logprobs.length && x.tokens.length > 0 && x.tokens.length <= 4));
});

test('a task whose version the learner now serves with other weights is stale: acked, no group', async () => {
  const v1 = await weightsOf(1, 1);
  const rebuilt = await weightsOf(3, 1);
  const store = new WeightStore(4);
  store.put(rebuilt);
  await using r = await rig(store);
  await r.publish(taskFor(v1, 0));
  await r.publish(taskFor(rebuilt, 1));
  await waitFor(() => r.groups.length >= 1, { what: 'the group of the served version', timeoutMs: 60_000, intervalMs: 50 });
  await waitFor(async () => (await r.f.topology.jsm.streams.info(Streams.TASKS)).state.messages === 0, { what: 'both tasks acked', timeoutMs: 30_000, intervalMs: 100 });
  assert.equal(r.groups.length, 1);
  assert.equal(r.groups[0]?.task.slot, 1);
  assert.equal(r.groups[0]?.weightsSha256, rebuilt.manifest.weightsSha256);
});
