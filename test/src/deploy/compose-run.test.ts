/**
 * The compose cluster executed as local processes (no container engine here): the file rendered by
 * `docker-compose config`, then each service (certs, nats, learner, actor, verifier, operator) run
 * with its entrypoint, command, environment and mounted files (compose-local.ts says what stands in
 * for the engine). A tiny run completes with every service on its own NATS user over TLS and the
 * actor's weights over mutual TLS; the operator tool reads the run's status as its own role.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertAvailable, skipUnlessCi, tempDir, waitFor, type ChildHandle } from '@acereason/testkit';
import { exitWithin, readMetrics, writeTinyRun } from '../loop/fixture.js';
import { commandWorks } from './repo.js';
import { localWorld, renderCompose, startService } from './compose-local.js';

const noCompose = commandWorks('docker-compose', ['version']) ? false : 'docker-compose is not installed (.ci/run installs it)';

interface Connz {
  connections: { authorized_user?: string; tls_version?: string; name?: string }[];
}

test('compose as local processes: certs, TLS NATS with a user per service, mutual-TLS gRPC, a tiny run, the operator tool', { skip: skipUnlessCi(noCompose), timeout: 240_000 }, async () => {
  assertAvailable(noCompose);
  await using dir = await tempDir('acereason-compose-');
  const runId = 'compose-run';
  await writeTinyRun(join(dir.path, 'data'), { runId, steps: 2 });
  const services = renderCompose(['docker-compose.yml'], { ACEREASON_RUN_ID: runId, ACEREASON_DATA_DIR: join(dir.path, 'data'), ACEREASON_ACTOR_THREADS: '1', ACEREASON_VERIFIER_DOMAIN: 'math' }, 'cpu');
  for (const name of ['certs', 'nats', 'learner', 'actor', 'verifier', 'operator']) assert.ok(services[name], `rendered service ${name}`);

  const world = await localWorld(dir.path, services, { nats: [4222, 8222], learner: [50051] });

  const running: ChildHandle[] = [];
  const output = (): string => running.map((c) => `--- ${c.settings.name}\n${c.output.slice(-3000)}`).join('\n');
  try {
    // certs: a one-shot job; a second run keeps what the first made.
    for (const round of [1, 2]) {
      const certs = startService(world, 'certs', services.certs ?? {});
      const exit = await exitWithin(certs, 60_000);
      assert.equal(exit.code, 0, `certs round ${round}: ${certs.output}`);
      if (round === 2) assert.match(certs.output, /kept/);
    }
    const actorVolume = readdirSync(join(dir.path, 'volumes', 'tls-actor')).sort();
    assert.deepEqual(actorVolume, ['ca.pem', 'client-key.pem', 'client.pem', 'credentials.json'], 'the actor volume holds its own files only');
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(dir.path, 'volumes', 'tls-actor', 'credentials.json'), 'utf8')) as object), ['actor']);

    const nats = startService(world, 'nats', services.nats ?? {});
    running.push(nats);
    const monitor = `http://127.0.0.1:${world.ownPorts('nats', 8222)}`;
    await waitFor(async () => (await fetch(`${monitor}/healthz?js-enabled-only=true`).catch(() => undefined))?.ok, { what: 'nats healthy (the compose healthcheck)', timeoutMs: 30_000 }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${output()}`);
    });

    const learner = startService(world, 'learner', services.learner ?? {});
    running.push(learner);
    await waitFor(() => learner.output.includes('"ready":true'), { what: 'learner ready', timeoutMs: 90_000 }).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${output()}`);
    });
    running.push(startService(world, 'actor', services.actor ?? {}), startService(world, 'verifier', services.verifier ?? {}));

    // While the run goes: every client is on TLS as its own user.
    const users = await waitFor(async () => {
      const c = (await (await fetch(`${monitor}/connz?auth=true`)).json()) as Connz;
      const set = new Set(c.connections.map((x) => x.authorized_user ?? ''));
      return ['learner', 'actor', 'verifier'].every((u) => set.has(u)) ? c.connections : undefined;
    }, { what: 'learner, actor and verifier connected', timeoutMs: 60_000 });
    assert.ok(users.every((c) => c.authorized_user && c.tls_version), `every connection authenticated over TLS: ${JSON.stringify(users)}`);

    const exit = await exitWithin(learner, 120_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${output()}`);
    });
    assert.equal(exit.code, 0, output());
    const metrics = readMetrics(readFileSync(join(dir.path, 'volumes', 'checkpoints', runId, 'metrics.jsonl'), 'utf8'));
    assert.equal(metrics.length, 2);
    assert.doesNotMatch(output(), /Permissions Violation|permission denied/i);

    // The operator tool (profile tools): status as the operator role, from the entrypoint's env.
    const op = startService(world, 'operator', services.operator ?? {});
    assert.equal((await exitWithin(op, 60_000)).code, 0, op.output);
    assert.match(op.output, new RegExp(`run ${runId}`));
  } finally {
    await Promise.all(running.map((c) => c.stop(5000)));
  }
});
