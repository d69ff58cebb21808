import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Streams, Subjects, codecs, SCHEMA_VERSION } from '@acereason/protocol';
import { connectNats, drainQuietly } from '../nats/connection.js';
import { jetstreamClient } from '../nats/publish.js';
import { ensureTopology } from '../nats/topology.js';
import { startNatsCluster } from './nats-cluster.js';

async function leaderOf(jsm: Awaited<ReturnType<typeof ensureTopology>>['jsm'], stream: string): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (info?.cluster?.leader) return info.cluster.leader;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

test('a 3-node cluster: streams and buckets get 3 replicas by themselves; the stream leader is killed and the client fails over and keeps publishing', { timeout: 120_000 }, async () => {
  await using cluster = await startNatsCluster({ nodes: 3 });
  assert.equal(cluster.url.split(',').length, 3);
  const nc = await connectNats({ servers: cluster.url, name: 'cluster-test', connectTimeoutMs: 20_000 });
  try {
    // JetStream is usable once the meta group has a leader.
    let topo: Awaited<ReturnType<typeof ensureTopology>> | undefined;
    for (let i = 0; i < 60 && !topo; i++) topo = await ensureTopology(nc, { owner: true }).catch(async () => void (await new Promise((r) => setTimeout(r, 250))));
    assert.ok(topo, 'the topology is created on the cluster');
    for (const s of Object.values(Streams)) assert.equal((await topo.jsm.streams.info(s)).config.num_replicas, 3, `${s} has 3 replicas`);
    assert.equal((await topo.jsm.streams.info('KV_acereason_runs')).config.num_replicas, 3);
    const js = jetstreamClient(nc);
    const subject = Subjects.stage('clusterrun');
    const msg = (i: number): Uint8Array => codecs.StageChanged.encode({ schema: SCHEMA_VERSION, kind: 'StageChanged', runId: 'clusterrun', id: `s${i}`, createdAtMs: Date.now(), toStage: `s${i}`, stageIndex: i, step: i, reason: 'test' });
    await js.publish(subject, msg(0));

    const leader = cluster.indexOf(await leaderOf(topo.jsm, Streams.EVENTS));
    assert.ok(leader >= 0, 'the EVENTS stream has a leader among the nodes');
    await cluster.kill(leader);
    // Publishes retry through the leader election; the connection moves to a live node if it was on the dead one.
    let ok = 0;
    for (let i = 1; i <= 5; i++) {
      for (let attempt = 0; attempt < 40; attempt++) {
        try {
          await js.publish(subject, msg(i), { timeout: 2000 });
          ok++;
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }
    assert.equal(ok, 5, 'every publish after the leader was killed went through');
    const after = cluster.indexOf(await leaderOf(topo.jsm, Streams.EVENTS));
    assert.ok(after >= 0 && after !== leader, `a new leader was elected (${after}, was ${leader})`);
    assert.equal((await topo.jsm.streams.info(Streams.EVENTS)).state.messages, 6);
    await cluster.restart(leader);
  } finally {
    await drainQuietly(nc);
  }
});
