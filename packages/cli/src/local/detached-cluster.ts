/**
 * A local cluster that outlives the CLI (`acereason up`): nats-server (unless a URL is given), the
 * learner, N actors and M verifiers as detached processes, recorded in a state file. The
 * in-process variant for benchmarks and the demo is LocalCluster (cluster.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterNodeConfig, freePort, METADATA_LEADER, natsServerBinary } from '@acereason/transport';
import { serviceBins } from './bins.js';
import { isAlive, isOurs, spawnDetached, terminate } from './processes.js';
import type { ClusterState, ServiceProcess } from './cluster-state.js';
import type { ClusterSecurity } from './cluster-security.js';

export interface DetachedClusterOptions {
  configPath: string;
  runId: string;
  outDir: string;
  actors: number;
  verifiers: number;
  natsUrl?: string;
  /** Start this many clustered nats-servers (1 by default). */
  natsNodes?: number;
  /** Appended to the config of the nats-server started here: its tls and authorization blocks. */
  natsExtraConfig?: string;
  /** Inside each node's cluster block (natsNodes > 1): the routes' TLS and authorization. */
  natsRouteConfig?: string;
  /** Security flags of each service (cluster-security.ts). */
  securityArgs?: ClusterSecurity['args'];
  /** First Prometheus port: the learner gets it, then actors, then verifiers. */
  metricsPort?: number;
  learnerArgs?: string[];
  actorArgs?: string[];
  verifierArgs?: string[];
  /** How long to wait for the learner's "ready" line (it compiles its graphs first). */
  readyTimeoutMs?: number;
}

function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Polls the processes' logs until a line of one matches; fails once every one has exited, or at the deadline. */
async function waitForLog<T>(procs: readonly { log: string; pid: number }[], match: (line: string) => T | undefined, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const last = procs[procs.length - 1]?.log ?? '';
  for (;;) {
    for (const { log } of procs) {
      if (!existsSync(log)) continue;
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        const found = match(line);
        if (found !== undefined) return found;
      }
    }
    if (procs.every((p) => !isAlive(p.pid))) throw new Error(`${what} exited before it was ready; the end of ${last}:\n${tail(last)}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms; the end of ${last}:\n${tail(last)}`);
    await sleep(200);
  }
}

function learnerAddress(line: string): string | undefined {
  if (!line.includes('"ready":true')) return undefined;
  try {
    const o = JSON.parse(line) as { address?: unknown };
    return typeof o.address === 'string' ? o.address : undefined;
  } catch {
    return undefined;
  }
}

export async function startDetachedCluster(o: DetachedClusterOptions): Promise<ClusterState> {
  const logDir = join(o.outDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const env = { ...process.env, ACEREASON_LOG_PRETTY: '0' };
  const services: ServiceProcess[] = [];
  const metricsPorts: Record<string, number> = {};
  let nextMetricsPort = o.metricsPort;
  const metricsArgs = (name: string): string[] => {
    if (nextMetricsPort === undefined) return [];
    metricsPorts[name] = nextMetricsPort;
    return ['--metrics-port', String(nextMetricsPort++)];
  };
  const node = (name: string, role: ServiceProcess['role'], bin: string, args: string[]): ServiceProcess => {
    const log = join(logDir, `${name}.log`);
    const p: ServiceProcess = { name, role, pid: spawnDetached(process.execPath, [bin, ...args], log, env), log, marker: bin };
    services.push(p);
    return p;
  };

  try {
    let natsUrl = o.natsUrl ?? '';
    if (!o.natsUrl) natsUrl = await startNats(o, logDir, env, services);
    const learner = node('learner', 'learner', serviceBins.learner(), ['--config', resolve(o.configPath), '--nats', natsUrl, ...(o.securityArgs?.learner ?? []), ...metricsArgs('learner'), ...(o.learnerArgs ?? [])]);
    const address = await waitForLog([learner], learnerAddress, 'the learner', o.readyTimeoutMs ?? 120_000);
    for (let i = 0; i < o.actors; i++) {
      node(`actor-${i}`, 'actor', serviceBins.actor(), ['--run', o.runId, '--nats', natsUrl, '--id', `actor-${i}`, ...(o.securityArgs?.actor ?? []), ...metricsArgs(`actor-${i}`), ...(o.actorArgs ?? [])]);
    }
    for (let i = 0; i < o.verifiers; i++) {
      node(`verifier-${i}`, 'verifier', serviceBins.verifier(), ['--run', o.runId, '--nats', natsUrl, '--id', `verifier-${i}`, ...(o.securityArgs?.verifier ?? []), ...metricsArgs(`verifier-${i}`), ...(o.verifierArgs ?? [])]);
    }
    return {
      version: 1, runId: o.runId, configPath: resolve(o.configPath), outDir: o.outDir, logDir, natsUrl, natsManaged: !o.natsUrl,
      learnerAddress: address, metricsPorts, startedAtMs: Date.now(), services,
    };
  } catch (err) {
    await stopServices(services, 3000);
    throw err;
  }
}

/** nats-server, or `natsNodes` of them clustered on loopback; returns every node's URL, comma-separated. */
async function startNats(o: DetachedClusterOptions, logDir: string, env: NodeJS.ProcessEnv, services: ServiceProcess[]): Promise<string> {
  const n = o.natsNodes ?? 1;
  const ports: number[] = [];
  const routes: number[] = [];
  for (let i = 0; i < n; i++) {
    ports.push(await freePort());
    routes.push(await freePort());
  }
  const started: ServiceProcess[] = [];
  for (let i = 0; i < n; i++) {
    const name = n === 1 ? 'nats' : `nats-${i}`;
    const store = join(o.outDir, n === 1 ? 'nats' : `nats-${i}`);
    mkdirSync(store, { recursive: true });
    const conf = join(store, 'nats.conf');
    const cluster = n === 1 ? [] : [clusterNodeConfig({ name: 'acereason', serverName: name, routePort: routes[i] ?? 0, peerRoutePorts: routes.filter((_r, j) => j !== i), ...(o.natsRouteConfig !== undefined ? { routeSecurity: o.natsRouteConfig } : {}) })];
    // Mode 0600: with auth it holds the role passwords.
    writeFileSync(conf, [`listen: "127.0.0.1:${ports[i] ?? 0}"`, 'jetstream {', `  store_dir: "${join(store, 'js')}"`, '}', 'max_payload: 8MB', ...cluster, o.natsExtraConfig ?? '', ''].join('\n'), { mode: 0o600 });
    const log = join(logDir, `${name}.log`);
    const p: ServiceProcess = { name, role: 'nats', pid: spawnDetached(natsServerBinary(), ['-c', conf], log, env), log, marker: conf };
    services.push(p);
    started.push(p);
  }
  // A cluster forms once a quorum is up, so every node is started before any is waited for.
  for (const p of started) await waitForLog([p], (l) => (l.includes('Server is ready') ? true : undefined), p.name, 20_000);
  // JetStream answers once the cluster has elected its metadata leader. The leader logs it; a node
  // that joined late (nats-server 2.9 closing a duplicate route) may never log it, so any node's
  // line counts.
  if (n > 1) await waitForLog(started, (l) => (METADATA_LEADER.test(l) ? true : undefined), 'the JetStream cluster (a metadata leader)', 30_000);
  return ports.map((p) => `nats://127.0.0.1:${p}`).join(',');
}

/** Stops workers first, then the learner, then NATS (so nothing loses its server mid-drain). */
export async function stopServices(services: readonly ServiceProcess[], graceMs: number): Promise<{ name: string; result: string }[]> {
  const order: ServiceProcess['role'][][] = [['actor', 'verifier'], ['learner'], ['nats']];
  const out: { name: string; result: string }[] = [];
  for (const roles of order) {
    const batch = services.filter((s) => roles.includes(s.role));
    const results = await Promise.all(batch.map(async (s) => ({ name: s.name, result: isOurs(s.pid, s.marker) ? await terminate(s.pid, graceMs) : 'not-running' })));
    out.push(...results);
  }
  return out;
}
