import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, exampleGroup, exampleTask, packValue, SCHEMA_VERSION, Streams, Subjects, Consumers, type TrajectoryGroup } from '@acereason/protocol';
import { consume, jetstreamClient, publishMessage, readDeadLetters, drainQuietly, ensureTopology, connectNats, type Delivery } from '@acereason/transport';
import { natsFixture, waitFor } from '@acereason/testkit';

const RUN = 'run1';

async function take<T>(iter: AsyncIterable<Delivery<T>>, n: number): Promise<Delivery<T>[]> {
  const out: Delivery<T>[] = [];
  if (n === 0) return out;
  for await (const d of iter) {
    out.push(d);
    if (out.length >= n) break;
  }
  return out;
}

test('published groups are consumed with typed arrays intact and acked', async () => {
  await using f = await natsFixture();
  const js = jetstreamClient(f.nc);
  for (let i = 0; i < 5; i++) {
    await publishMessage(js, Subjects.trajectory(RUN, 'math'), codecs.TrajectoryGroup, exampleGroup({ id: `g${i}`, groupSize: 4, tokensPerResponse: 32 }));
  }
  const c = await consume(f.nc, { stream: Streams.TRAJECTORIES, durable: Consumers.verifiers(RUN, 'math'), filterSubject: Subjects.trajectoriesOfDomain(RUN, 'math'), codec: codecs.TrajectoryGroup, maxInFlight: 2 });
  const got: string[] = [];
  for await (const d of c) {
    assert.ok(d.value.responses[0]?.tokens instanceof Uint32Array);
    assert.ok(c.held <= 2, 'never more than maxInFlight unsettled deliveries');
    got.push(d.value.id);
    await d.ack();
    if (got.length === 5) break;
  }
  assert.deepEqual(got, ['g0', 'g1', 'g2', 'g3', 'g4']);
});

test('a message of the previous schema version (string task identity) is dead-lettered with a reason naming the version', async () => {
  await using f = await natsFixture();
  const js = jetstreamClient(f.nc);
  const subject = Subjects.task(RUN, 'math');
  // What a version-1 learner published: the step in the task, identity only in the id string.
  const { task: _identity, ...rest } = exampleTask({ id: 'run1.3.0.0.abababab' });
  await js.publish(subject, packValue({ ...rest, schema: 1, step: 3, minPolicyVersion: 3 }), { msgID: 'v1-task' });
  await publishMessage(js, subject, codecs.RolloutTask, exampleTask({ id: 'good-v2' }));
  const c = await consume(f.nc, { stream: Streams.TASKS, durable: Consumers.actors(RUN), filterSubject: Subjects.tasksOfRun(RUN), codec: codecs.RolloutTask, maxInFlight: 4 });
  const [good] = await take(c, 1);
  assert.equal(good?.value.id, 'good-v2');
  await good?.ack();
  const dead = await readDeadLetters(f.nc, { fromStream: Streams.TASKS });
  assert.equal(dead.length, 1);
  assert.match(dead[0]?.reason ?? '', new RegExp(`RolloutTask: schema: version 1 is not supported \\(this build speaks ${SCHEMA_VERSION}\\); the message was written by an older build`));
  c.stop();
});

test('random bytes and wrong-shaped msgpack go to the dead-letter stream with a reason; the consumer keeps going', async () => {
  await using f = await natsFixture();
  const js = jetstreamClient(f.nc);
  const subject = Subjects.task(RUN, 'math');
  let seed = 99;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  const garbage: Uint8Array[] = [];
  for (let i = 0; i < 20; i++) {
    const b = new Uint8Array(1 + Math.floor(rnd() * 100));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
    garbage.push(b);
  }
  for (const [i, b] of garbage.entries()) await js.publish(subject, b, { msgID: `junk-${i}` });
  await js.publish(subject, packValue({ ...exampleTask(), id: 'wrong-shape', promptTokens: [1, 2, 3] }), { msgID: 'wrong-shape' });
  await publishMessage(js, subject, codecs.RolloutTask, exampleTask({ id: 'good-1' }));
  const c = await consume(f.nc, { stream: Streams.TASKS, durable: Consumers.actors(RUN), filterSubject: Subjects.tasksOfRun(RUN), codec: codecs.RolloutTask, maxInFlight: 4 });
  const [good] = await take(c, 1);
  assert.equal(good?.value.id, 'good-1');
  await good?.ack();
  assert.equal(c.counts.deadLettered, 21);
  const dead = await readDeadLetters(f.nc, { fromStream: Streams.TASKS });
  assert.equal(dead.length, 21);
  const shaped = dead.find((d) => /promptTokens: expected a Uint32Array/.test(d.reason));
  assert.ok(shaped, `a dead letter names the bad field; reasons: ${dead.map((d) => d.reason).join(' | ')}`);
  assert.ok(dead.every((d) => d.reason.length > 0 && d.subject === subject && d.seq > 0));
  // The original bytes are kept for inspection.
  assert.deepEqual([...(dead[0]?.data ?? [])], [...(garbage[0] ?? [])]);
  // Nothing is left in the work queue: the junk was terminated, the good task acked.
  const info = await f.topology.jsm.streams.info(Streams.TASKS);
  await waitFor(async () => (await f.topology.jsm.streams.info(Streams.TASKS)).state.messages === 0, { what: 'work queue to drain', timeoutMs: 5000 });
  assert.ok(info.state.messages <= 22);
});

test('a consumer that dies without acking gets its message redelivered to another', async () => {
  await using f = await natsFixture();
  const js = jetstreamClient(f.nc);
  await publishMessage(js, Subjects.task(RUN, 'math'), codecs.RolloutTask, exampleTask({ id: 'lease-1' }));
  const settings = { stream: Streams.TASKS, durable: Consumers.actors(RUN), filterSubject: Subjects.tasksOfRun(RUN), codec: codecs.RolloutTask, maxInFlight: 1, ackWaitMs: 1000 } as const;
  const doomed = await f.connect('doomed');
  const c1 = await consume(doomed, settings);
  const [first] = await take(c1, 1);
  assert.equal(first?.deliveryCount, 1);
  // The holder dies: its connection closes with the delivery unsettled.
  c1.stop();
  await doomed.close();
  const survivor = await f.connect('survivor');
  const c2 = await consume(survivor, settings);
  const [again] = await take(c2, 1);
  assert.equal(again?.value.id, 'lease-1');
  assert.equal(again?.deliveryCount, 2);
  await again?.ack();
});

test('a live consumer keeps its lease while it works past ack_wait', async () => {
  await using f = await natsFixture();
  const js = jetstreamClient(f.nc);
  await publishMessage(js, Subjects.task(RUN, 'math'), codecs.RolloutTask, exampleTask({ id: 'slow-1' }));
  const settings = { stream: Streams.TASKS, durable: Consumers.actors(RUN), filterSubject: Subjects.tasksOfRun(RUN), codec: codecs.RolloutTask, maxInFlight: 1, ackWaitMs: 600 } as const;
  const c1 = await consume(f.nc, settings);
  const [d] = await take(c1, 1);
  const other = await consume(await f.connect('other'), settings);
  const stolen: string[] = [];
  const ac = new AbortController();
  const watcher = (async () => {
    for await (const x of other) {
      stolen.push(x.value.id);
      if (ac.signal.aborted) break;
    }
  })();
  await new Promise((r) => setTimeout(r, 2000));
  other.stop();
  ac.abort();
  await watcher;
  assert.deepEqual(stolen, [], 'no redelivery while the holder is alive and extending its lease');
  await d?.ack();
});

test('a duplicate msg-id is stored once', async () => {
  await using f = await natsFixture();
  const js = jetstreamClient(f.nc);
  const g = exampleGroup({ id: 'dup-1', groupSize: 2 });
  const a = await publishMessage(js, Subjects.trajectory(RUN, 'math'), codecs.TrajectoryGroup, g);
  const b = await publishMessage(js, Subjects.trajectory(RUN, 'math'), codecs.TrajectoryGroup, g);
  assert.equal(a.duplicate, false);
  assert.equal(b.duplicate, true);
  assert.equal(a.seq, b.seq);
  const info = await f.topology.jsm.streams.info(Streams.TRAJECTORIES);
  assert.equal(info.state.messages, 1);
});

test('a nak on the last allowed delivery dead-letters instead of looping forever', async () => {
  await using f = await natsFixture();
  const js = jetstreamClient(f.nc);
  await publishMessage(js, Subjects.task(RUN, 'code'), codecs.RolloutTask, exampleTask({ id: 'poison' }));
  const c = await consume(f.nc, { stream: Streams.TASKS, durable: Consumers.actors(RUN), filterSubject: Subjects.tasksOfRun(RUN), codec: codecs.RolloutTask, maxInFlight: 1, maxDeliver: 3 });
  let deliveries = 0;
  for await (const d of c) {
    deliveries++;
    await d.nak(0);
    if (d.deliveryCount >= 3) break;
  }
  assert.equal(deliveries, 3);
  const dead = await readDeadLetters(f.nc);
  assert.equal(dead.length, 1);
  assert.match(dead[0]?.reason ?? '', /failed 3 deliveries/);
});

test('kill -9 of the NATS server and a restart on the same store loses no acked message', async () => {
  await using f = await natsFixture();
  const pub = await connectNats({ servers: f.server.url, name: 'publisher' });
  const js = jetstreamClient(pub);
  const N = 200;
  for (let i = 0; i < N; i++) {
    const r = await publishMessage(js, Subjects.scored(RUN), codecs.TrajectoryGroup as never, exampleGroup({ id: `s${i}`, groupSize: 2, tokensPerResponse: 16 }) as never);
    assert.equal(r.duplicate, false);
  }
  await f.server.kill('SIGKILL');
  await f.server.restart();
  // Clients reconnect by themselves.
  const nc = await connectNats({ servers: f.server.url, name: 'after-restart' });
  await ensureTopology(nc);
  const c = await consume(nc, { stream: Streams.SCORED, durable: Consumers.learner(RUN), codec: codecs.TrajectoryGroup, maxInFlight: 64 });
  const ids = new Set<string>();
  for await (const d of c) {
    ids.add((d.value as TrajectoryGroup).id);
    await d.ack();
    if (ids.size === N) break;
  }
  assert.equal(ids.size, N);
  // The old publisher connection reconnected too and can publish again.
  await waitFor(async () => (await publishMessage(js, Subjects.scored(RUN), codecs.TrajectoryGroup, exampleGroup({ id: 'after', groupSize: 1 }))).seq > N, { what: 'publisher to reconnect', timeoutMs: 15_000 });
  await drainQuietly(pub);
  await drainQuietly(nc);
});
