import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AceReasonError, codecs, exampleTask, Streams, Subjects } from '@acereason/protocol';
import { startNatsServer } from '../local/nats-server.js';
import { connectNats, drainQuietly } from './connection.js';
import { ensureTopology, resolveLimits } from './topology.js';
import { jetstreamClient, publishMessage } from './publish.js';
import { isStreamFullError } from './errors.js';

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

test('discard old on a work stream is refused', () => {
  assert.throws(() => resolveLimits({ [Streams.SCORED]: { maxBytes: 1000, maxAgeMs: 0, discard: 'old' } }), /ACEREASON_SCORED: discard "old" would drop work not yet consumed/);
  assert.equal(resolveLimits({})[Streams.DEAD_LETTER].discard, 'old');
});
