import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Streams } from '@acereason/protocol';
import { parseStreams, scoredRoomWarning } from './streams.js';

test('streams: sizes and ages in human units, discard new by default on work streams, old on the rest', () => {
  const c = parseStreams({ replicas: 3, trajectories: { max_bytes: '200GB' }, scored: { max_bytes: '64MB' }, dead_letter: { max_bytes: 1000, max_age: '30d' } });
  assert.equal(c.replicas, 3);
  assert.deepEqual(c.limits[Streams.TRAJECTORIES], { maxBytes: 200 * 1024 ** 3, maxAgeMs: 0, discard: 'new' });
  assert.deepEqual(c.limits[Streams.SCORED], { maxBytes: 64 * 1024 ** 2, maxAgeMs: 0, discard: 'new' });
  assert.deepEqual(c.limits[Streams.DEAD_LETTER], { maxBytes: 1000, maxAgeMs: 30 * 86_400_000, discard: 'old' });
  assert.equal(c.limits[Streams.TASKS], undefined);
  assert.equal(parseStreams(undefined).replicas, 'auto');
});

test('streams: what could drop unconsumed work is refused, naming the field', () => {
  assert.throws(() => parseStreams({ scored: { discard: 'old' } }), /streams\.scored\.discard: "old" would drop work/);
  assert.throws(() => parseStreams({ tasks: { max_age: '30d' } }), /streams\.tasks\.max_age: tasks leave the work queue when acked/);
  for (const key of ['trajectories', 'scored']) assert.throws(() => parseStreams({ [key]: { max_bytes: '1GB', max_age: '7d' } }), new RegExp(`streams\\.${key}\\.max_age: groups leave the work queue when acked; an age limit would drop groups nobody has consumed`));
  assert.throws(() => parseStreams({ trajectories: { max_bytes: 'lots' } }), /streams\.trajectories\.max_bytes: expected a size like "20GB"/);
  assert.throws(() => parseStreams({ replicas: 2 }), /streams\.replicas: expected an odd number/);
  assert.throws(() => parseStreams({ scored: { max_size: '1GB' } }), /streams\.scored\.max_size: unknown setting/);
});

test('streams: a SCORED limit below what the learner holds between checkpoints is warned about', () => {
  const shape = (scored?: string) => ({
    stages: [{ name: 'short', batchPrompts: 128, groupSize: 8, maxResponseTokens: 8192 }, { name: 'long', batchPrompts: 128, groupSize: 16, maxResponseTokens: 32768 }],
    checkpoint: { everySteps: 10 }, algorithm: { maxStaleness: 0 },
    streams: parseStreams(scored === undefined ? undefined : { scored: { max_bytes: scored } }),
  });
  // 11 steps x 128 groups x 16 x 32K tokens x 12 bytes = 8.86 GB at the long stage.
  assert.match(scoredRoomWarning(shape('5GB')) ?? '', /streams\.scored\.max_bytes \(5\.37 GB\) is below what the learner may hold unacked between checkpoints in stage long \(11 steps of full-length groups: 8\.86 GB\)/);
  assert.equal(scoredRoomWarning(shape('40GB')), undefined);
  assert.equal(scoredRoomWarning(shape()), undefined, 'unlimited');
});
