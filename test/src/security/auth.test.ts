/**
 * Authentication and authorisation against a real nats-server configured with the output of
 * `acereason certs`: role users and their subject permissions, NATS over TLS, gRPC with mutual TLS,
 * and a tiny run in which every service connects as its own role.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { AceReasonError, ObjectBuckets, Streams, Subjects, WeightServiceDefinition } from '@acereason/protocol';
import {
  connectNats, createGrpcClient, drainQuietly, ensureTopology, fetchRunAssets, fetchWeights, publishRunAssets, getObjectChecked, makeSnapshot, openObjectStore, parseCredentials, putObjectOnce, renderAuthorization, renderCertAuthorization, renderTls, service, startGrpcServer,
  weightServiceHandlers, WeightStore, ROLES, type CredentialsFile, type NatsConnection, type Role,
} from '@acereason/transport';
import { spawnChild, startNatsServer, tempDir, type ChildHandle, type NatsServer } from '@acereason/testkit';
import { BIN, writeTinyRun, exitWithin, readMetrics } from '../loop/fixture.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const certDir = mkdtempSync(join(tmpdir(), 'acereason-certs-'));
const file = (name: string): string => join(certDir, name);
let creds: CredentialsFile;
/** Passwords only, no TLS: the permission tests. */
let plain: NatsServer;
/** TLS (dev CA) and passwords: the TLS and end-to-end tests. */
let secure: NatsServer;
const open: NatsConnection[] = [];

function pass(role: Role): string {
  const c = creds[role];
  assert.ok(c, `credentials for ${role}`);
  return c.password;
}

async function as(role: Role, server: NatsServer = plain, tls?: { ca?: string; cert?: string; key?: string }): Promise<NatsConnection> {
  const nc = await connectNats({ servers: server.url, name: role, user: role, pass: pass(role), connectTimeoutMs: 3000, ...(tls ? { tls } : {}) });
  open.push(nc);
  return nc;
}

/** A JetStream publish as `nc`: resolves with the stream it landed in, rejects when refused. */
async function jsPublish(nc: NatsConnection, subject: string): Promise<string> {
  const ack = await jetstream(nc).publish(subject, new Uint8Array([1]), { timeout: 2000 });
  return ack.stream;
}

before(async () => {
  execFileSync(process.execPath, [join(root, 'packages/cli/dist/main.js'), 'certs', '--out', certDir], { stdio: 'pipe' });
  creds = parseCredentials(readFileSync(file('credentials.json'), 'utf8'));
  const auth = renderAuthorization(ROLES.map((role) => ({ role, password: pass(role) })));
  plain = await startNatsServer({ extraConfig: auth });
  secure = await startNatsServer({ extraConfig: `${renderTls({ ca: file('ca.pem'), cert: file('server.pem'), key: file('server-key.pem') })}\n${auth}` });
  // The learner owns the topology: it creates the streams and buckets on both servers.
  await ensureTopology(await as('learner'));
  await ensureTopology(await as('learner', secure, { ca: file('ca.pem') }));
});

after(async () => {
  for (const nc of open) await drainQuietly(nc);
  await plain[Symbol.asyncDispose]();
  await secure[Symbol.asyncDispose]();
  rmSync(certDir, { recursive: true, force: true });
});

test('certs writes credentials.json and the key files readable by the owner only', () => {
  for (const f of ['credentials.json', 'nats-auth.conf', 'ca-key.pem', 'server-key.pem', 'actor-key.pem', 'route-key.pem', 'nats-route.conf']) {
    assert.equal(execFileSync('stat', ['-c', '%a', file(f)], { encoding: 'utf8' }).trim(), '600', f);
  }
  assert.deepEqual(Object.keys(creds).sort(), [...ROLES].sort());
});

test('a client without credentials, or with a wrong password, cannot connect', async () => {
  await assert.rejects(connectNats({ servers: plain.url, connectTimeoutMs: 3000 }), (e: Error & { code?: string }) => e.code === 'PERMISSION');
  await assert.rejects(connectNats({ servers: plain.url, user: 'actor', pass: 'not-the-password', connectTimeoutMs: 3000 }), (e: Error & { code?: string }) => e.code === 'PERMISSION');
  await assert.rejects(connectNats({ servers: plain.url, user: 'actor', pass: pass('learner'), connectTimeoutMs: 3000 }), (e: Error & { code?: string }) => e.code === 'PERMISSION');
});

test('an actor publishes trajectories but no weights, scored groups or tasks', async () => {
  const nc = await as('actor');
  // It may check the topology, not create it.
  await ensureTopology(nc, { verifyOnly: true, waitForMs: 2000 });
  assert.equal(await jsPublish(nc, Subjects.trajectory('r1', 'math')), Streams.TRAJECTORIES);
  for (const subject of [Subjects.weights('r1'), Subjects.scored('r1'), Subjects.task('r1', 'math'), Subjects.stage('r1')]) {
    await assert.rejects(jsPublish(nc, subject), `actor publishing ${subject} must fail`);
  }
  const learner = await as('learner');
  const info = await jetstreamManager(learner);
  assert.equal((await info.streams.info(Streams.TASKS)).state.messages, 0, 'nothing reached the task stream');
  assert.equal((await info.streams.info(Streams.SCORED)).state.messages, 0, 'nothing reached the scored stream');
});

test('a verifier publishes scored groups but no tasks; the learner publishes tasks', async () => {
  const verifier = await as('verifier');
  assert.equal(await jsPublish(verifier, Subjects.scored('r2')), Streams.SCORED);
  await assert.rejects(jsPublish(verifier, Subjects.task('r2', 'math')));
  await assert.rejects(jsPublish(verifier, Subjects.trajectory('r2', 'math')));
  const learner = await as('learner');
  assert.equal(await jsPublish(learner, Subjects.task('r2', 'math')), Streams.TASKS);
  assert.equal(await jsPublish(learner, Subjects.weights('r2')), Streams.EVENTS);
});

test('the operator reads stream info and buckets but publishes nothing', async () => {
  const nc = await as('operator');
  const topo = await ensureTopology(nc, { verifyOnly: true, waitForMs: 2000 });
  assert.ok((await topo.jsm.streams.info(Streams.TASKS)).state.messages >= 0);
  assert.equal(await topo.runState.get('nothing.here'), null);
  await assert.rejects(jsPublish(nc, Subjects.task('r3', 'math')));
  await assert.rejects(topo.runState.put('r3.spec', new Uint8Array([1])));
});

test('code tests: only the learner writes the object store, verifiers read it, actors and the operator cannot', async () => {
  const learner = await ensureTopology(await as('learner'));
  const tests = new TextEncoder().encode(JSON.stringify({ inputs: ['1\n'], outputs: ['1\n'] }));
  const { object } = await putObjectOnce(learner.codeTests, 'code-tests/perm', tests);
  const verifier = await ensureTopology(await as('verifier'), { verifyOnly: true, waitForMs: 2000 });
  assert.deepEqual([...await getObjectChecked(verifier.codeTests, object)], [...tests], 'a verifier reads the tests');
  await assert.rejects(putObjectOnce(verifier.codeTests, 'code-tests/forged', new Uint8Array([1])), 'a verifier cannot write tests');
  for (const role of ['actor', 'operator'] as const) {
    const os = await openObjectStore(await as(role), ObjectBuckets.CODE_TESTS, { create: false });
    await assert.rejects(getObjectChecked(os, object), (e: unknown) => !(e instanceof AceReasonError && e.code === 'NOT_FOUND'), `${role} cannot read tests`);
    await assert.rejects(putObjectOnce(os, 'code-tests/forged', new Uint8Array([1])), `${role} cannot write tests`);
  }
  assert.equal(await learner.codeTests.info('code-tests/forged'), null, 'nothing forged reached the store');
});

test('run assets: the learner writes them, actors and verifiers read and check them but cannot write', async () => {
  const tokenizer = new Uint8Array(9 * 1024 * 1024).fill(7);
  const learner = await ensureTopology(await as('learner'));
  const { assets } = await publishRunAssets(learner.assets, { 'tokenizer.json': tokenizer });
  for (const role of ['actor', 'verifier'] as const) {
    const topo = await ensureTopology(await as(role), { verifyOnly: true, waitForMs: 2000 });
    const files = await fetchRunAssets(topo.assets, assets);
    assert.equal(files['tokenizer.json']?.length, tokenizer.length, `${role} reads the asset`);
    await assert.rejects(putObjectOnce(topo.assets, 'run-assets/forged', new Uint8Array([1, 2, 3])), `${role} writing an asset must fail`);
  }
  assert.equal(await learner.assets.info('run-assets/forged'), null, 'nothing forged reached the store');
});

test('NATS over TLS: a client trusting the dev CA connects, one without it cannot', async () => {
  const nc = await as('actor', secure, { ca: file('ca.pem') });
  assert.equal(await jsPublish(nc, Subjects.trajectory('r4', 'math')), Streams.TRAJECTORIES);
  await assert.rejects(connectNats({ servers: secure.url, user: 'actor', pass: pass('actor'), connectTimeoutMs: 3000 }));
});

test('NATS with verify_and_map: the client certificate is the credential and names the role', async () => {
  const subjects = Object.fromEntries(ROLES.map((r) => [r, `CN=${r},OU=${r},O=acereason dev`]));
  await using server = await startNatsServer({
    extraConfig: `${renderTls({ ca: file('ca.pem'), cert: file('server.pem'), key: file('server-key.pem') }, { verifyAndMap: true })}\n${renderCertAuthorization(subjects)}`,
  });
  const withCert = (role: Role): Promise<NatsConnection> => connectNats({ servers: server.url, connectTimeoutMs: 3000, tls: { ca: file('ca.pem'), cert: file(`${role}.pem`), key: file(`${role}-key.pem`) } });
  const learner = await withCert('learner');
  const actor = await withCert('actor');
  try {
    await ensureTopology(learner);
    assert.equal(await jsPublish(actor, Subjects.trajectory('r6', 'math')), Streams.TRAJECTORIES);
    await assert.rejects(jsPublish(actor, Subjects.task('r6', 'math')));
    await assert.rejects(connectNats({ servers: server.url, connectTimeoutMs: 3000, tls: { ca: file('ca.pem') } }));
  } finally {
    await drainQuietly(actor);
    await drainQuietly(learner);
  }
});

test('gRPC with mutual TLS: a client with a role certificate is served, one without a certificate is refused', async () => {
  const store = new WeightStore(1);
  store.put(makeSnapshot('r5', 1, [{ name: 'w', dtype: 'F32', shape: [4], data: new Uint8Array(16) }]));
  await using server = await startGrpcServer({
    address: '127.0.0.1:0', services: [service(WeightServiceDefinition, weightServiceHandlers(store))],
    tls: { ca: file('ca.pem'), cert: file('server.pem'), key: file('server-key.pem') },
  });
  const good = createGrpcClient(WeightServiceDefinition, { address: server.address, tls: { ca: file('ca.pem'), cert: file('actor.pem'), key: file('actor-key.pem') }, timeoutMs: 5000 });
  const noCert = createGrpcClient(WeightServiceDefinition, { address: server.address, tls: { ca: file('ca.pem') }, timeoutMs: 3000 });
  const plaintext = createGrpcClient(WeightServiceDefinition, { address: server.address, timeoutMs: 3000 });
  try {
    const snap = await fetchWeights(good, { runId: 'r5', version: 1 });
    assert.equal(snap.tensors[0]?.name, 'w');
    await assert.rejects(noCert.getManifest({ runId: 'r5', version: 1, latest: false }));
    await assert.rejects(plaintext.getManifest({ runId: 'r5', version: 1, latest: false }));
  } finally {
    for (const c of [good, noCert, plaintext]) c.close();
  }
});

test('a tiny run completes with every service on its own role credentials, NATS over TLS and gRPC with mutual TLS', async () => {
  await using dir = await tempDir();
  const cfg = await writeTinyRun(dir.path, { runId: 'authrun', steps: 2 });
  const env = { ...process.env, ACEREASON_LOG_PRETTY: '0' };
  const common = ['--nats', secure.url, '--creds', file('credentials.json'), '--tls-ca', file('ca.pem')];
  const learner = spawnChild({ name: 'learner', command: process.execPath, env, args: [BIN.learner, '--config', cfg, ...common, '--grpc-tls-cert', file('server.pem'), '--grpc-tls-key', file('server-key.pem'), '--grpc-client-auth'] });
  const children: ChildHandle[] = [
    learner,
    spawnChild({ name: 'actor', command: process.execPath, env, args: [BIN.actor, '--run', 'authrun', '--id', 'actor-a', '--ack-wait-ms', '3000', ...common, '--tls-cert', file('actor.pem'), '--tls-key', file('actor-key.pem')] }),
    spawnChild({ name: 'verifier', command: process.execPath, env, args: [BIN.verifier, '--run', 'authrun', '--id', 'ver-a', '--domain', 'math', '--ack-wait-ms', '3000', ...common] }),
  ];
  try {
    const exit = await exitWithin(learner, 40_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${children.slice(1).map((c) => `${c.settings.name}:\n${c.output.slice(-2000)}`).join('\n')}`);
    });
    assert.equal(exit.code, 0, learner.output.slice(-3000));
    const metrics = readMetrics(readFileSync(join(dir.path, 'out', 'metrics.jsonl'), 'utf8'));
    assert.equal(metrics.length, 2);
    assert.ok(metrics.every((m) => m.groups > 0));
    assert.doesNotMatch(children.map((c) => c.output).join('\n'), /Permissions Violation/i);
  } finally {
    await Promise.all(children.map((c) => c.stop(3000)));
  }
});
