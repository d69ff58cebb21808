import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchChaos } from '@acereason/cli';

// ACEREASON_LONG=1 runs the longer chaos run (more steps, more kills).
const long = process.env.ACEREASON_LONG === '1';

test('chaos: workers killed every few seconds, NATS restarted, the learner killed and restarted -- nothing lost or counted twice, same rewards as without faults', async (t) => {
  const r = await benchChaos(long ? { steps: 24 } : { quick: true });
  t.diagnostic(`faults ${r.faults_injected as number} ${JSON.stringify(r.faults)}; groups expected ${r.groups_expected as number}, consumed ${r.groups_consumed as number}, lost ${r.lost as number}, duplicated ${r.duplicated as number}`);
  const faults = r.faults as { worker_kills: number; nats_restarts: number; learner_kills: number };
  assert.ok(faults.worker_kills >= 1, 'at least one worker was killed');
  assert.equal(faults.nats_restarts, 1);
  assert.equal(faults.learner_kills, 1);
  assert.equal(r.groups_consumed, r.groups_expected);
  assert.equal(r.scored_prompts_recorded, r.groups_expected, 'the learner recorded one scored group for every prompt of every step');
  assert.equal(r.lost, 0);
  assert.equal(r.duplicated, 0);
  assert.equal(r.rewards_match, true, `rewards per step: reference ${JSON.stringify(r.rewards_reference)} vs chaos ${JSON.stringify(r.rewards_chaos)}`);
});

test('chaos over a 3-node NATS cluster: the SCORED stream leader SIGKILLed mid-run (and workers, the learner) -- nothing lost or counted twice, same rewards', async (t) => {
  const r = await benchChaos(long ? { steps: 24, natsCluster: 3 } : { quick: true, natsCluster: 3 });
  const faults = r.faults as { worker_kills: number; nats_restarts: number; nats_nodes_killed: number; learner_kills: number };
  t.diagnostic(`faults ${r.faults_injected as number} ${JSON.stringify(faults)} nodes ${JSON.stringify(r.nats_killed_nodes)}; groups expected ${r.groups_expected as number}, consumed ${r.groups_consumed as number}`);
  assert.equal(r.nats_nodes, 3);
  assert.equal(faults.nats_nodes_killed, long ? 2 : 1);
  assert.equal(faults.nats_restarts, faults.nats_nodes_killed, 'every killed node came back');
  assert.equal(faults.learner_kills, 1);
  assert.equal(r.faults_injected, faults.worker_kills + faults.nats_nodes_killed + faults.learner_kills);
  assert.equal(r.groups_consumed, r.groups_expected);
  assert.equal(r.scored_prompts_recorded, r.groups_expected);
  assert.equal(r.lost, 0);
  assert.equal(r.duplicated, 0);
  assert.equal(r.rewards_match, true, `rewards per step: reference ${JSON.stringify(r.rewards_reference)} vs chaos ${JSON.stringify(r.rewards_chaos)}`);
});
