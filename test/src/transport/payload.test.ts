/**
 * The largest group of the recipe fits the NATS payload limit: 16 responses of 32K tokens (token
 * ids, log-probabilities and ~4 bytes of text per token), as a TrajectoryGroup and as the
 * ScoredGroup that carries it, published through a real nats-server with the deployments'
 * max_payload (8 MB) and read back intact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, exampleScored, Streams, Subjects } from '@acereason/protocol';
import { natsFixture } from '@acereason/testkit';
import { jetstreamClient, publishMessage } from '@acereason/transport';

const MAX_PAYLOAD = 8 * 1024 * 1024;

test('a 16 x 32K-token group fits the 8 MB payload limit as TrajectoryGroup and ScoredGroup, over a real server', { timeout: 60_000 }, async () => {
  const scored = exampleScored({ runId: 'big', groupSize: 16, tokensPerResponse: 32 * 1024, id: 'big-1' });
  for (const r of scored.group.responses) r.text = 'abcd'.repeat(32 * 1024);
  const group = scored.group;
  const groupBytes = codecs.TrajectoryGroup.encode(group).length;
  const scoredBytes = codecs.ScoredGroup.encode(scored).length;
  assert.ok(groupBytes < MAX_PAYLOAD && scoredBytes < MAX_PAYLOAD, `group ${groupBytes} B, scored ${scoredBytes} B, limit ${MAX_PAYLOAD}`);
  // Tokens and log-probs are 8 bytes a token, text ~4: the rest is framing.
  assert.ok(scoredBytes < 16 * 32 * 1024 * 12 * 1.01, `scored ${scoredBytes} B is close to 12 bytes a token`);

  await using nats = await natsFixture();
  const js = jetstreamClient(nats.nc);
  await publishMessage(js, Subjects.trajectory('big', 'math'), codecs.TrajectoryGroup, group);
  const ack = await publishMessage(js, Subjects.scored('big'), codecs.ScoredGroup, scored);
  const m = await nats.topology.jsm.streams.getMessage(Streams.SCORED, { seq: ack.seq });
  const back = codecs.ScoredGroup.decode(m?.data ?? new Uint8Array());
  assert.equal(back.group.responses.length, 16);
  assert.deepEqual(back.group.responses[15]?.tokens, group.responses[15]?.tokens);
});
