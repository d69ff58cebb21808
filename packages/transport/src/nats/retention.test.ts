import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { AceReasonError, codecs, Consumers, exampleGroup, exampleScored, Streams, StreamSubjects, Subjects } from '@acereason/protocol';
import { startNatsServer } from '../local/nats-server.js';
import { connectNats, drainQuietly } from './connection.js';
import { ensureTopology } from './topology.js';
import { jetstreamClient, publishMessage } from './publish.js';
import { consume } from './consumer.js';
import { subjectMatches } from './retention.js';

/** The form an older version made: limits retention, so consumed groups stayed in the stream. */
async function oldForm(jsm: JetStreamManager): Promise<void> {
  for (const name of [Streams.TRAJECTORIES, Streams.SCORED]) {
    await jsm.streams.add({ name, subjects: StreamSubjects[name], retention: RetentionPolicy.Limits, storage: StorageType.File, discard: 'new' as never });
  }
}

test('an old limits-retention stream whose groups were all consumed is made again as a work queue', { timeout: 60_000 }, async () => {
  await using server = await startNatsServer();
  const nc = await connectNats({ servers: server.url, name: 'migrate' });
  try {
    const js = jetstreamClient(nc);
    const jsm = await jetstreamManager(nc);
    await oldForm(jsm);
    for (const id of ['a', 'b']) await publishMessage(js, Subjects.scored('old'), codecs.ScoredGroup, exampleScored({ runId: 'old', id, groupSize: 2, tokensPerResponse: 4 }));
    const c = await consume(nc, { stream: Streams.SCORED, durable: Consumers.learner('old'), filterSubject: Subjects.scored('old'), codec: codecs.ScoredGroup, maxInFlight: 2 });
    let n = 0;
    for await (const d of c) {
      await d.ack();
      if (++n === 2) break;
    }
    c.stop();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await jsm.streams.info(Streams.SCORED)).state.messages, 2, 'limits retention kept the consumed groups');

    // A worker (not the owner) leaves the old stream as it is.
    await ensureTopology(nc);
    assert.equal((await jsm.streams.info(Streams.SCORED)).config.retention, 'limits');

    const topo = await ensureTopology(nc, { owner: true });
    for (const name of [Streams.TRAJECTORIES, Streams.SCORED]) {
      const info = await topo.jsm.streams.info(name);
      assert.equal(info.config.retention, 'workqueue', name);
      assert.deepEqual(info.config.subjects, StreamSubjects[name], `${name}: its subjects are back`);
      assert.equal(info.state.messages, 0, `${name}: only consumed groups were there`);
    }
    // Calling it again changes nothing; the stream takes work and gives it out.
    await ensureTopology(nc, { owner: true });
    await publishMessage(js, Subjects.scored('old'), codecs.ScoredGroup, exampleScored({ runId: 'old', id: 'c', groupSize: 2, tokensPerResponse: 4 }));
    assert.equal((await topo.jsm.streams.info(Streams.SCORED)).state.messages, 1);
  } finally {
    await drainQuietly(nc);
  }
});

test('an old limits-retention stream holding unconsumed groups is refused loudly and left untouched', { timeout: 60_000 }, async () => {
  await using server = await startNatsServer();
  const nc = await connectNats({ servers: server.url, name: 'refuse' });
  try {
    const js = jetstreamClient(nc);
    const jsm = await jetstreamManager(nc);
    await oldForm(jsm);
    // One consumed run (its verifiers acked everything) and one whose group no verifier has taken yet.
    await publishMessage(js, Subjects.trajectory('done', 'math'), codecs.TrajectoryGroup, exampleGroup({ runId: 'done', id: 'd1', groupSize: 2, tokensPerResponse: 4 }));
    const c = await consume(nc, { stream: Streams.TRAJECTORIES, durable: Consumers.verifiers('done', 'math'), filterSubject: Subjects.trajectoriesOfDomain('done', 'math'), codec: codecs.TrajectoryGroup, maxInFlight: 1 });
    for await (const d of c) {
      await d.ack();
      break;
    }
    c.stop();
    await publishMessage(js, Subjects.trajectory('live', 'math'), codecs.TrajectoryGroup, exampleGroup({ runId: 'live', id: 'l1', groupSize: 2, tokensPerResponse: 4 }));
    await publishMessage(js, Subjects.trajectory('live', 'math'), codecs.TrajectoryGroup, exampleGroup({ runId: 'live', id: 'l2', groupSize: 2, tokensPerResponse: 4 }));
    await new Promise((r) => setTimeout(r, 200));

    await assert.rejects(ensureTopology(nc, { owner: true }), (e: unknown) => e instanceof AceReasonError && e.code === 'CONFLICT' && e.field === Streams.TRAJECTORIES
      && e.message.includes(`stream ${Streams.TRAJECTORIES} has limits retention`) && e.message.includes('2 messages no consumer has acked')
      && e.message.includes(`${Subjects.trajectory('live', 'math')}: 2`) && !e.message.includes(Subjects.trajectory('done', 'math'))
      && e.message.includes(`nats stream purge ${Streams.TRAJECTORIES}`));
    const info = await jsm.streams.info(Streams.TRAJECTORIES);
    assert.equal(info.config.retention, 'limits', 'left as it was');
    assert.deepEqual(info.config.subjects, StreamSubjects[Streams.TRAJECTORIES]);
    assert.equal(info.state.messages, 3, 'nothing was deleted');

    // What the message says to do: once the unconsumed groups are dealt with, the owner starts.
    await jsm.streams.purge(Streams.TRAJECTORIES);
    await ensureTopology(nc, { owner: true });
    assert.equal((await jsm.streams.info(Streams.TRAJECTORIES)).config.retention, 'workqueue');
  } finally {
    await drainQuietly(nc);
  }
});

test('a consumer running while its stream is migrated makes its durable again and goes on', { timeout: 60_000 }, async () => {
  await using server = await startNatsServer();
  const nc = await connectNats({ servers: server.url, name: 'across' });
  try {
    const js = jetstreamClient(nc);
    const jsm = await jetstreamManager(nc);
    await oldForm(jsm);
    const c = await consume(nc, { stream: Streams.SCORED, durable: Consumers.learner('across'), filterSubject: Subjects.scored('across'), codec: codecs.ScoredGroup, maxInFlight: 4 });
    const got = (async () => {
      for await (const d of c) {
        await d.ack();
        return d.value.id;
      }
      return undefined;
    })();
    await new Promise((r) => setTimeout(r, 300));
    await ensureTopology(nc, { owner: true });
    assert.equal((await jsm.streams.info(Streams.SCORED)).config.retention, 'workqueue');
    await publishMessage(js, Subjects.scored('across'), codecs.ScoredGroup, exampleScored({ runId: 'across', id: 'after', groupSize: 2, tokensPerResponse: 4 }));
    assert.equal(await got, 'after');
    c.stop();
    assert.equal((await jsm.streams.info(Streams.SCORED)).state.messages, 0, 'acked, so gone');
  } finally {
    await drainQuietly(nc);
  }
});

test('subject filters: * is one token, > one or more', () => {
  assert.ok(subjectMatches('acereason.traj.r1.*', 'acereason.traj.r1.math'));
  assert.ok(subjectMatches('acereason.traj.>', 'acereason.traj.r1.math'));
  assert.ok(subjectMatches('>', 'a'));
  assert.ok(!subjectMatches('acereason.traj.r1.*', 'acereason.traj.r1.math.x'));
  assert.ok(!subjectMatches('acereason.traj.r1.>', 'acereason.traj.r1'));
  assert.ok(!subjectMatches('acereason.traj.r1.math', 'acereason.traj.r2.math'));
});
