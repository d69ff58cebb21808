/**
 * `up --nats-cluster 3` (secured, the default): three clustered nats-servers whose routes run over
 * mutual TLS with the route certificate of `acereason certs`, every service given all three URLs,
 * streams with 3 replicas, a run that steps; a nats-server that tries to join with the wrong
 * certificate (or none) is refused while one with the route certificate joins; then `down` stops all
 * of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { Streams } from '@acereason/protocol';
import { DEMO_MODEL, createOnnxEngine } from '@acereason/policy';
import { RouteProbe } from '@acereason/testkit';
import { connectNats, drainQuietly, readRoleCredentials, renderRouteSecurity } from '@acereason/transport';
import { ROUTE_SUBJECT, makeDevCertificates } from '../local/dev-certs.js';
import type { ClusterState } from '../local/cluster-state.js';
import type { RunStatus } from '../local/run-status.js';
import { isAlive } from '../local/processes.js';
import { killLeftovers, runCli } from '../run-cli.js';

test('up --nats-cluster 3: three clustered nodes, routes over TLS with the route certificate (others refused), 3 replicas, the run steps, down stops every node', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-upc-'));
  const cli = (args: string[], timeoutMs = 120_000) => runCli(args, { cwd: dir, timeoutMs, env: { ...process.env, ACEREASON_LOG_PRETTY: '0' } });
  let state: ClusterState | undefined;
  try {
    writeFileSync(join(dir, 'math.jsonl'), Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: `p${i}`, problem: `${i % 5}+1`, answer: String((i % 5) + 1) })).join('\n') + '\n');
    const engine = await createOnnxEngine({ model: DEMO_MODEL, seed: 5, threads: 1 });
    writeFileSync(join(dir, 'init.safetensors'), engine.exportSafetensors());
    await engine.dispose();
    writeFileSync(join(dir, 'run.yaml'), `
run: { id: upc, seed: 3, out_dir: out }
model: { preset: demo, init: init.safetensors, tokenizer: char }
engine: { threads: 1 }
datasets:
  arith: { path: math.jsonl, domain: math, prompt_template: "q:{problem}=" }
optimizer: { lr: 0.001, weight_decay: 0 }
stages:
  - { name: tiny, dataset: arith, steps: 1000000, batch_prompts: 2, group_size: 2, max_response_tokens: 6, zero_variance_filter: false }
checkpoint: { every_steps: 1000 }
cluster: { grpc_bind: 127.0.0.1:0, ack_wait: 3s, step_timeout: 60s }
`);
    const up = await cli(['up', '--config', join(dir, 'run.yaml'), '--nats-cluster', '3', '--verifier-args=--domain math', '--json'], 180_000);
    assert.equal(up.code, 0, up.stderr);
    state = JSON.parse(up.stdout) as ClusterState;
    assert.deepEqual(state.services.filter((s) => s.role === 'nats').map((s) => s.name), ['nats-0', 'nats-1', 'nats-2']);
    assert.equal(state.natsUrl.split(',').length, 3);
    const certDir = state.certDir ?? '';
    assert.ok(certDir, 'up secured the cluster');
    const routePort = Number(/cluster \{[^}]*?listen: "127\.0\.0\.1:(\d+)"/.exec(readFileSync(join(state.outDir, 'nats-0', 'nats.conf'), 'utf8'))?.[1]);
    assert.ok(routePort > 0, 'nats-0 listens for routes');
    await routesRefuseAllButTheRouteCertificate(certDir, routePort, dir);
    const learner = readRoleCredentials(join(certDir, 'credentials.json'), 'learner');
    const nc = await connectNats({ servers: state.natsUrl, name: 'upc-check', user: learner.user, pass: learner.password, tls: { ca: join(certDir, 'ca.pem') } });
    try {
      const jsm = await jetstreamManager(nc);
      for (const s of Object.values(Streams)) assert.equal((await jsm.streams.info(s)).config.num_replicas, 3, s);
    } finally {
      await drainQuietly(nc);
    }
    let status: RunStatus | undefined;
    for (let i = 0; i < 120 && (status?.learner?.step ?? 0) < 1; i++) {
      const r = await cli(['status', '--json']);
      if (r.code === 0) status = JSON.parse(r.stdout) as RunStatus;
      await sleep(500);
    }
    assert.ok((status?.learner?.step ?? 0) >= 1, `the run steps on the cluster: ${JSON.stringify(status)}`);
    const down = await cli(['down', '--json'], 120_000);
    assert.equal(down.code, 0, down.stderr);
    for (const p of state.services) assert.equal(isAlive(p.pid), false, `${p.name} is gone`);
    state = undefined;
  } finally {
    killLeftovers(state?.services); // a failed test must not leave background processes behind
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * nats-servers that try to join the cluster at `routePort`: one with the route certificate joins
 * (so the refusals below are not a broken probe); one with an actor's client certificate (the same
 * CA, not the route subject), one with a route certificate of another CA and one without TLS are
 * refused and hold no route.
 */
async function routesRefuseAllButTheRouteCertificate(certDir: string, routePort: number, dir: string): Promise<void> {
  const other = makeDevCertificates(join(dir, 'other-ca'));
  const own = (cert: string, key: string, ca = join(certDir, 'ca.pem')): string => renderRouteSecurity({ ca, cert, key }, ROUTE_SUBJECT);
  const probe = (name: string, security: string): Promise<RouteProbe> => RouteProbe.start({ name, routePort, security, dir });
  await using joiner = await probe('route certificate', own(join(certDir, 'route.pem'), join(certDir, 'route-key.pem')));
  await using actor = await probe("an actor's certificate", own(join(certDir, 'actor.pem'), join(certDir, 'actor-key.pem')));
  await using otherCa = await probe('another CA', own(other.route.cert, other.route.key, other.ca));
  await using plain = await probe('no TLS', '');
  await joiner.joins(3);
  await actor.refused(/Route Error 'Authorization Violation'/);
  await otherCa.refused(/certificate signed by unknown authority/);
  await plain.refused(/Router connection closed/);
}
