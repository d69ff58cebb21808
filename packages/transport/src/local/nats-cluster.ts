/**
 * N clustered `nats-server -js` on loopback (JetStream replicated by RAFT): each node on its own
 * client, route and monitoring port with its own store, routes to every other node. Nodes can be
 * killed and restarted on the same ports and store, one by one (for fault tests and chaos).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { NatsServer } from './nats-server.js';
import { freePort } from './ports.js';
import { connectNats, drainQuietly } from '../nats/connection.js';
import { Backoff } from '../retry/backoff.js';

export interface NatsClusterSettings {
  /** Number of nodes (3 for a cluster that survives the loss of one). */
  nodes: number;
  /** Extra configuration of every node (tls, authorization ...). */
  extraConfig?: string;
  /** Store dirs live under this dir (`node-<i>`); default a fresh temp dir, deleted on dispose. */
  dir?: string;
  /** Cluster name (default acereason). */
  name?: string;
}

/**
 * The node-specific part of a loopback cluster node's config: its name and its routes to the others,
 * secured by `routeSecurity` when given (renderRouteSecurity: TLS and the route certificate's subject).
 */
export function clusterNodeConfig(o: { name: string; serverName: string; routePort: number; peerRoutePorts: number[]; routeSecurity?: string }): string {
  const lines = [`server_name: "${o.serverName}"`];
  if (o.peerRoutePorts.length > 0) {
    const security = (o.routeSecurity ?? '').split('\n').filter(Boolean).map((l) => `  ${l}`);
    lines.push('cluster {', `  name: "${o.name}"`, `  listen: "127.0.0.1:${o.routePort}"`, `  routes: [${o.peerRoutePorts.map((q) => `"nats-route://127.0.0.1:${q}"`).join(', ')}]`, ...security, '}');
  }
  return lines.join('\n');
}

/** How nats-server logs the election of the JetStream metadata leader (on the leader, and usually on the others). */
export const METADATA_LEADER = /JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader/;

/**
 * Resolves once the node is in a meta group with a leader: it logs the leader, or JetStream answers
 * through it (account info). nats-server 2.9 does not always log the metadata leader on a node that
 * joined late (seen under load after a duplicate route was closed), though that node serves
 * JetStream; the log still counts where the probe cannot connect (TLS or authorization required).
 */
async function joinedMetaGroup(node: NatsServer, timeoutMs: number): Promise<void> {
  const ac = new AbortController();
  try {
    await Promise.any([node.waitForOutput(METADATA_LEADER, timeoutMs), jetStreamAnswers(node, timeoutMs, ac.signal)]);
  } catch (err) {
    const reasons = err instanceof AggregateError ? err.errors.map((e: unknown) => (e instanceof Error ? e.message.split('\n')[0] : String(e))) : [String(err)];
    throw new AceReasonError(ErrorCodes.UNAVAILABLE, `nats cluster: ${node.url} has no JetStream metadata leader after ${timeoutMs} ms: ${reasons.join('; ')}`, { cause: err });
  } finally {
    ac.abort();
  }
}

async function jetStreamAnswers(node: NatsServer, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const poll = new Backoff({ initialMs: 100, maxMs: 1000 });
  const nc = await connectNats({ servers: node.url, name: 'cluster-start', connectTimeoutMs: 5000 });
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    for (;;) {
      try {
        await jsm.getAccountInfo();
        return;
      } catch (err) {
        // Before the election every answer is a 503, a timeout or no responders: all retried to the deadline.
        if (Date.now() > deadline || signal.aborted) throw err;
        await poll.wait(signal);
      }
    }
  } finally {
    await drainQuietly(nc);
  }
}

export class NatsCluster implements AsyncDisposable {
  private constructor(readonly nodes: NatsServer[], readonly serverNames: string[], private readonly dir: string, private readonly ownsDir: boolean) {}

  static async start(settings: NatsClusterSettings): Promise<NatsCluster> {
    if (!Number.isInteger(settings.nodes) || settings.nodes < 1) throw new AceReasonError(ErrorCodes.INVALID, `nats cluster: nodes must be a positive integer, got ${settings.nodes}`, { field: 'nodes' });
    const dir = settings.dir ?? (await mkdtemp(join(tmpdir(), 'acereason-natsc-')));
    const name = settings.name ?? 'acereason';
    const routePorts: number[] = [];
    const clientPorts: number[] = [];
    for (let i = 0; i < settings.nodes; i++) {
      routePorts.push(await freePort());
      clientPorts.push(await freePort());
    }
    const serverNames = routePorts.map((_p, i) => `${name}-n${i}`);
    for (let i = 0; i < settings.nodes; i++) await mkdir(join(dir, `node-${i}`), { recursive: true });
    const started = await Promise.allSettled(routePorts.map((routePort, i) => NatsServer.start({
      port: clientPorts[i] as number,
      storeDir: join(dir, `node-${i}`),
      // The cluster forms only once a quorum is up: every node is started before any is waited for.
      extraConfig: [clusterNodeConfig({ name, serverName: serverNames[i] ?? '', routePort, peerRoutePorts: routePorts.filter((_q, j) => j !== i) }), settings.extraConfig ?? ''].join('\n'),
    })));
    const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const cluster = new NatsCluster(nodes, serverNames, dir, settings.dir === undefined);
    try {
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (settings.nodes > 1) await Promise.all(nodes.map((n) => joinedMetaGroup(n, 60_000)));
      return cluster;
    } catch (err) {
      // Nothing outlives a failed start (a node left running would keep its parent process alive).
      await cluster[Symbol.asyncDispose]();
      throw err;
    }
  }

  /** Every node's URL, comma-separated (what `--nats` takes). */
  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  /** The node index of a server name (as stream info reports its leader), or -1. */
  indexOf(serverName: string | undefined): number {
    return serverName === undefined ? -1 : this.serverNames.indexOf(serverName);
  }

  async kill(i: number, sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.node(i).kill(sig);
  }

  async restart(i: number): Promise<void> {
    await this.node(i).restart();
  }

  private node(i: number): NatsServer {
    const n = this.nodes[i];
    if (!n) throw new AceReasonError(ErrorCodes.INVALID, `nats cluster: no node ${i} (${this.nodes.length} nodes)`);
    return n;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.nodes.map((n) => n[Symbol.asyncDispose]()));
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }
}

export function startNatsCluster(settings: NatsClusterSettings): Promise<NatsCluster> {
  return NatsCluster.start(settings);
}
