import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AceReasonError, codecs, Consumers, exampleGroup, exampleScored, exampleTask, Streams, Subjects, type ScoredGroup } from '@acereason/protocol';
import { startNatsServer } from '../local/nats-server.js';
import { connectNats, drainQuietly } from './connection.js';
import { ensureTopology, resolveLimits } from './topology.js';
import { jetstreamClient, publishMessage } from './publish.js';
import { isStreamFullError } from './errors.js';
import { consume, type Delivery } from './consumer.js';

test('a full work stream refuses new work instead of dropping old: the publisher waits until an ack makes room, or fails saying the stream is full', { timeout: 60_000 }, async () => {
  await using server = await startNatsServer();
  const nc = await connectNats({ servers: server.url, name: 'limits' });
  try {
    const one = codecs.RolloutTask.encode(exampleTask({ runId: 'lim' })).length;
    // Room for 3 tasks (JetStream counts a little header overhead per message).
    const topo = await ensureTopology(nc, { owner: true, limits: { [Streams.TASKS]: { maxBytes: 3 * (one + 120), maxAgeMs: 0, discard: 'new' } } });
    const info = await topo.jsm.streams.info(Streams.TASKS);
    assert.equal(info.config.discard, 'new');
    const js = jetstreamClient(nc);
    const subject = Subjects.task('lim', 'math');
    const task = (i: number) => exampleTask({ runId: 'lim', id: `lim-${i}` });
    for (let i = 0; i < 3; i++) await publishMessage(js, subject, codecs.RolloutTask, task(i));

    // The server's refusal is told by its JetStream API code, not its text.
    await assert.rejects(js.publish(subject, codecs.RolloutTask.encode(task(3)), { msgID: 'raw-3' }), isStreamFullError);
    // The 4th does not fit: with a short patience it fails, and says why.
    await assert.rejects(publishMessage(js, subject, codecs.RolloutTask, task(3), { retryForMs: 600 }), (e: unknown) => e instanceof AceReasonError && e.code === 'UNAVAILABLE' && e.retryable && /is full \(at its max_bytes with discard new\)/.test(e.message));
    assert.equal((await topo.jsm.streams.info(Streams.TASKS)).state.messages, 3, 'nothing was dropped to make room');

    // With patience it waits; a consumer's ack frees a slot and the publish goes through.
    const pending = publishMessage(js, subject, codecs.RolloutTask, task(3), { retryForMs: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    await topo.jsm.consumers.add(Streams.TASKS, { durable_name: 'lim', ack_policy: 'explicit' as never, filter_subject: subject });
    const c = await js.consumers.get(Streams.TASKS, 'lim');
    const m = await c.next({ expires: 5000 });
    assert.ok(m, 'a task to consume');
    assert.equal(codecs.RolloutTask.decode(m.data).id, 'lim-0', 'the oldest task is still there');
    await m.ackAck();
    const published = await pending;
    assert.equal(published.stream, Streams.TASKS);
    const st = (await topo.jsm.streams.info(Streams.TASKS)).state;
    assert.equal(st.messages, 3);
    assert.equal(st.last_seq, 4, 'every task was stored exactly once');
  } finally {
    await drainQuietly(nc);
  }
});

test('a consumed group leaves TRAJECTORIES and SCORED when acked; an unacked one stays, even with no consumer yet', { timeout: 60_000 }, async () => {
  await using server = await startNatsServer();
  const nc = await connectNats({ servers: server.url, name: 'retention' });
  try {
    const topo = await ensureTopology(nc, { owner: true });
    const js = jetstreamClient(nc);
    // Published before any consumer exists: a work queue keeps them (interest retention would not).
    for (const id of ['t-acked', 't-held']) await publishMessage(js, Subjects.trajectory('ret', 'math'), codecs.TrajectoryGroup, exampleGroup({ runId: 'ret', id, groupSize: 2, tokensPerResponse: 4 }));
    for (const id of ['s-acked', 's-held']) await publishMessage(js, Subjects.scored('ret'), codecs.ScoredGroup, exampleScored({ runId: 'ret', id, groupSize: 2, tokensPerResponse: 4 }));
    for (const stream of [Streams.TRAJECTORIES, Streams.SCORED]) assert.equal((await topo.jsm.streams.info(stream)).config.retention, 'workqueue', stream);
    const settle = async (stream: typeof Streams.TRAJECTORIES | typeof Streams.SCORED, durable: string, filterSubject: string, codec: typeof codecs.TrajectoryGroup | typeof codecs.ScoredGroup) => {
      const c = await consume<{ id: string }>(nc, { stream, durable, filterSubject, codec, maxInFlight: 2, ackWaitMs: 30_000 });
      const got: Delivery<{ id: string }>[] = [];
      for await (const d of c) {
        got.push(d);
        if (got.length === 2) break;
      }
      c.stop();
      for (const d of got) if (d.value.id.endsWith('-acked')) await d.ack();
      const st = (await topo.jsm.streams.info(stream)).state;
      assert.equal(st.messages, 1, `${stream}: the acked group left, the held one stays`);
      const left = await topo.jsm.streams.getMessage(stream, { seq: st.first_seq });
      assert.ok(left, `${stream}: message ${st.first_seq}`);
      assert.match(codec.decode(left.data).id, /-held$/, `${stream}: what stays is the unacked group`);
    };
    await settle(Streams.TRAJECTORIES, Consumers.verifiers('ret', 'math'), Subjects.trajectoriesOfDomain('ret', 'math'), codecs.TrajectoryGroup);
    await settle(Streams.SCORED, Consumers.learner('ret'), Subjects.scored('ret'), codecs.ScoredGroup);
    // Each message has one consumer: a second one over the same subjects is refused by the server.
    await assert.rejects(topo.jsm.consumers.add(Streams.SCORED, { durable_name: 'watcher', ack_policy: 'explicit' as never, filter_subject: Subjects.scored('ret') }));
  } finally {
    await drainQuietly(nc);
  }
});

test('a full SCORED stream: the verifier\'s publish waits, the learner\'s ack frees room, it goes through; nothing was dropped', { timeout: 60_000 }, async () => {
  await using server = await startNatsServer();
  const nc = await connectNats({ servers: server.url, name: 'scored-full' });
  try {
    const group = (i: number): ScoredGroup => exampleScored({ runId: 'full', id: `g-${i}`, groupSize: 2, tokensPerResponse: 8 });
    const one = codecs.ScoredGroup.encode(group(0)).length;
    const topo = await ensureTopology(nc, { owner: true, limits: { [Streams.SCORED]: { maxBytes: 2 * (one + 150), maxAgeMs: 0, discard: 'new' } } });
    const js = jetstreamClient(nc);
    const subject = Subjects.scored('full');
    for (let i = 0; i < 2; i++) await publishMessage(js, subject, codecs.ScoredGroup, group(i));
    await assert.rejects(publishMessage(js, subject, codecs.ScoredGroup, group(2), { retryForMs: 500 }), (e: unknown) => e instanceof AceReasonError && e.code === 'UNAVAILABLE' && /is full/.test(e.message));
    const pending = publishMessage(js, subject, codecs.ScoredGroup, group(2), { retryForMs: 30_000 });
    const c = await consume(nc, { stream: Streams.SCORED, durable: Consumers.learner('full'), filterSubject: subject, codec: codecs.ScoredGroup, maxInFlight: 1 });
    for await (const d of c) {
      assert.equal(d.value.id, 'g-0', 'the oldest group is still there');
      await d.ack();
      break;
    }
    c.stop();
    assert.equal((await pending).stream, Streams.SCORED);
    const st = (await topo.jsm.streams.info(Streams.SCORED)).state;
    assert.equal(st.messages, 2, 'g-1 and g-2 wait for the learner');
    assert.equal(st.last_seq, 3, 'every group was stored exactly once');
  } finally {
    await drainQuietly(nc);
  }
});

test('discard old or an age limit on a work stream is refused', () => {
  assert.throws(() => resolveLimits({ [Streams.SCORED]: { maxBytes: 1000, maxAgeMs: 0, discard: 'old' } }), /ACEREASON_SCORED: discard "old" would drop work not yet consumed/);
  assert.throws(() => resolveLimits({ [Streams.TRAJECTORIES]: { maxBytes: 1000, maxAgeMs: 86_400_000, discard: 'new' } }), /ACEREASON_TRAJECTORIES: max_age would drop work not yet consumed/);
  assert.equal(resolveLimits({})[Streams.DEAD_LETTER].discard, 'old');
});
