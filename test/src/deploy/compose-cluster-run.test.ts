/**
 * The compose 3-node form (docker-compose.yml + docker-compose.cluster.yml) executed as local
 * processes, like compose-run.test.ts for one node: the files rendered by `docker-compose config`,
 * then certs, nats, nats-1, nats-2 (each with its own server name, JetStream volume and ports,
 * nats-cluster.conf -> nats.conf -> the bundle's files), the learner, an actor and a verifier run
 * with their entrypoint, command, environment and mounts. The nodes form their cluster over
 * mutual-TLS routes with the route certificate, every service is given all three URLs and connects
 * as its own user over TLS, the learner's streams get 3 replicas, and a one-step run completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Streams } from '@acereason/protocol';
import { assertAvailable, skipUnlessCi, tempDir, waitFor, type ChildHandle } from '@acereason/testkit';
import { connectNats, drainQuietly, readRoleCredentials } from '@acereason/transport';
import { exitWithin, readMetrics, writeTinyRun } from '../loop/fixture.js';
import { commandWorks } from './repo.js';
import { localWorld, renderCompose, startService } from './compose-local.js';

const noCompose = commandWorks('docker-compose', ['version']) ? false : 'docker-compose is not installed (.ci/run installs it)';
const NODES = ['nats', 'nats-1', 'nats-2'];
const URLS = NODES.map((n) => `nats://${n}:4222`).join(',');

interface Connz {
  connections: { authorized_user?: string; tls_version?: string }[];
}

test('compose 3-node form as local processes: three NATS nodes clustered over TLS routes, every service on all three as its own user, 3 replicas, a run completes', { skip: skipUnlessCi(noCompose), timeout: 240_000 }, async () => {
  assertAvailable(noCompose);
  await using dir = await tempDir('acereason-compose-cluster-');
  const runId = 'compose-cluster';
  await writeTinyRun(join(dir.path, 'data'), { runId, steps: 1 });
  const services = renderCompose(['docker-compose.yml', 'docker-compose.cluster.yml'], {
    ACEREASON_RUN_ID: runId, ACEREASON_DATA_DIR: join(dir.path, 'data'), ACEREASON_NATS_URLS: URLS, ACEREASON_ACTOR_THREADS: '1', ACEREASON_VERIFIER_DOMAIN: 'math',
  }, 'cpu');
  const world = await localWorld(dir.path, services, { ...Object.fromEntries(NODES.map((n) => [n, [4222, 6222, 8222]])), learner: [50051] });
  const running: ChildHandle[] = [];
  const output = (): string => running.map((c) => `--- ${c.settings.name}\n${c.output.slice(-3000)}`).join('\n');
  const orFail = (err: unknown): never => {
    throw new Error(`${String(err)}\n${output()}`);
  };
  const monitor = (n: string): string => `http://127.0.0.1:${world.ownPorts(n, 8222)}`;
  try {
    const certs = startService(world, 'certs', services.certs ?? {});
    assert.equal((await exitWithin(certs, 60_000)).code, 0, certs.output);

    for (const n of NODES) running.push(startService(world, n, services[n] ?? {}));
    // The compose healthcheck of every node, then the cluster: each node routes to the other two over TLS.
    for (const n of NODES) await waitFor(async () => (await fetch(`${monitor(n)}/healthz?js-enabled-only=true`).catch(() => undefined))?.ok, { what: `${n} healthy`, timeoutMs: 30_000 }).catch(orFail);
    for (const n of NODES) {
      await waitFor(async () => ((await (await fetch(`${monitor(n)}/routez`)).json()) as { num_routes: number }).num_routes === 2, { what: `${n} routes to the other two`, timeoutMs: 30_000 }).catch(orFail);
      const varz = (await (await fetch(`${monitor(n)}/varz`)).json()) as { server_name: string; cluster: { tls_required?: boolean; tls_verify?: boolean } };
      assert.deepEqual([varz.cluster.tls_required, varz.cluster.tls_verify], [true, true], `${n}: routes require TLS and a verified certificate`);
      assert.equal(varz.server_name, services[n]?.environment?.NATS_SERVER_NAME, `${n} runs as its own server name`);
    }
    assert.doesNotMatch(output(), /Authorization Violation|authentication error|TLS route handshake error/);

    const learner = startService(world, 'learner', services.learner ?? {});
    running.push(learner);
    await waitFor(() => learner.output.includes('"ready":true'), { what: 'learner ready', timeoutMs: 90_000 }).catch(orFail);
    running.push(startService(world, 'actor', services.actor ?? {}), startService(world, 'verifier', services.verifier ?? {}));

    // Every client, on whichever node it landed, is on TLS as its own user.
    const connections = await waitFor(async () => {
      const all = (await Promise.all(NODES.map(async (n) => ((await (await fetch(`${monitor(n)}/connz?auth=true`)).json()) as Connz).connections))).flat();
      const users = new Set(all.map((c) => c.authorized_user ?? ''));
      return ['learner', 'actor', 'verifier'].every((u) => users.has(u)) ? all : undefined;
    }, { what: 'learner, actor and verifier connected', timeoutMs: 60_000 }).catch(orFail);
    assert.ok(connections.every((c) => c.authorized_user && c.tls_version), `every connection authenticated over TLS: ${JSON.stringify(connections)}`);

    // The learner's topology on the cluster: 3 replicas (streams.replicas: auto).
    const tlsDir = join(dir.path, 'volumes', 'tls-learner');
    const creds = readRoleCredentials(join(tlsDir, 'credentials.json'), 'learner');
    const nc = await connectNats({ servers: NODES.map((n) => `nats://127.0.0.1:${world.ownPorts(n, 4222)}`).join(','), user: creds.user, pass: creds.password, tls: { ca: join(tlsDir, 'ca.pem') } });
    try {
      const jsm = await jetstreamManager(nc);
      for (const s of [Streams.TASKS, Streams.TRAJECTORIES, Streams.SCORED]) assert.equal((await jsm.streams.info(s)).config.num_replicas, 3, s);
    } finally {
      await drainQuietly(nc);
    }

    const exit = await exitWithin(learner, 120_000).catch(orFail);
    assert.equal(exit.code, 0, output());
    assert.equal(readMetrics(readFileSync(join(dir.path, 'volumes', 'checkpoints', runId, 'metrics.jsonl'), 'utf8')).length, 1);
    assert.doesNotMatch(output(), /Permissions Violation|permission denied/i);
  } finally {
    await Promise.all(running.map((c) => c.stop(5000)));
  }
});
