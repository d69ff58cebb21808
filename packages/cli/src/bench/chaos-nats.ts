/**
 * The NATS faults of the chaos benchmark. A single server is killed (SIGKILL) and restarted on
 * its store. A cluster loses the leader of the SCORED stream (SIGKILL, down for `downMs`, then
 * restarted on its store); in the long mode a second node (another one than the first) goes down
 * the same way once the first is back. One node is down at a time, so a 3-node cluster keeps its
 * quorum and the run must go on.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { Streams } from '@acereason/protocol';
import { connectNats, drainQuietly, waitForStreamLeader } from '@acereason/transport';
import type { LocalCluster } from '../local/cluster.js';

export interface NatsFaults {
  nats_restarts: number;
  nats_nodes_killed: number;
  /** Server names of the killed nodes, in order (cluster only). */
  nats_killed_nodes: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The node index that leads `stream` once it has a leader; with `replicasCurrent`, only once every
 * replica has caught up too (so a node just restarted is back in the group before the next fault).
 * Asks through any live node, retrying transient errors up to 60 s (no account-info check when the
 * manager is made: that request, sent to a node just restarted, timed out outside the retries).
 */
async function leaderIndex(cluster: LocalCluster, stream: string, replicasCurrent = false): Promise<number> {
  const nodes = cluster.natsCluster;
  if (!nodes) return -1;
  const nc = await connectNats({ servers: cluster.natsUrl, name: 'chaos-leader', connectTimeoutMs: 10_000 });
  try {
    const info = await waitForStreamLeader(await jetstreamManager(nc, { checkAPI: false }), stream, { timeoutMs: 60_000, replicasCurrent });
    return nodes.indexOf(info.cluster?.leader);
  } finally {
    await drainQuietly(nc);
  }
}

export async function injectNatsFaults(cluster: LocalCluster, o: { long: boolean; downMs: number }): Promise<NatsFaults> {
  const faults: NatsFaults = { nats_restarts: 0, nats_nodes_killed: 0, nats_killed_nodes: [] };
  const nodes = cluster.natsCluster;
  if (!nodes) {
    await cluster.nats?.kill('SIGKILL');
    await sleep(1000);
    await cluster.nats?.restart();
    faults.nats_restarts++;
    return faults;
  }
  const down = async (i: number): Promise<void> => {
    await nodes.kill(i, 'SIGKILL');
    faults.nats_nodes_killed++;
    faults.nats_killed_nodes.push(nodes.serverNames[i] ?? String(i));
    await sleep(o.downMs);
    await nodes.restart(i);
    faults.nats_restarts++;
    // Back in the group: the stream has a leader and the restarted replica is current again.
    await leaderIndex(cluster, Streams.SCORED, true);
  };
  const leader = await leaderIndex(cluster, Streams.SCORED);
  if (leader < 0) throw new Error(`chaos: the ${Streams.SCORED} stream has no leader among the cluster's nodes`);
  await down(leader);
  if (o.long) {
    await sleep(o.downMs);
    await down((leader + 1) % nodes.nodes.length);
  }
  return faults;
}
