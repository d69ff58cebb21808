/**
 * gRPC authorization by role over real TLS: every role's certificate from `acereason certs`
 * against every method of LearnerControl and WeightService (the learner's handlers on a real
 * server), then bearer tokens. Allowed calls are served; refused ones get PERMISSION_DENIED naming
 * the role and the method, and are counted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { AceReasonError, LearnerControlDefinition, WeightServiceDefinition, type LearnerStatus } from '@acereason/protocol';
import { controlHandlers, type ControlTarget, type StepMetrics } from '@acereason/learner';
import {
  createGrpcClient, LEARNER_GRPC_POLICY, makeSnapshot, readGrpcRoleMap, roleAuthorizer, ROLES, service, startGrpcServer, weightServiceHandlers, WeightStore,
  type GrpcDenial, type GrpcRoleMap, type Role, type RunningGrpcServer, type TlsFiles,
} from '@acereason/transport';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const certDir = mkdtempSync(join(tmpdir(), 'acereason-grpc-authz-'));
const file = (name: string): string => join(certDir, name);

/** The learner's side of LearnerControl: records what was asked. */
function target(calls: string[]): ControlTarget {
  const status: LearnerStatus = { runId: 'authz', state: 'running', stage: 's', stageIndex: 0, step: 3, stageStep: 3, policyVersion: 3, weightsSha256: 'ab', lastStep: null, startedAtMs: 1 };
  return {
    status: () => status,
    pause: () => void calls.push('pause'),
    resume: () => void calls.push('resume'),
    requestAdvance: () => void calls.push('advance'),
    requestCheckpoint: () => {
      calls.push('checkpoint');
      return Promise.resolve('/ckpt/step-3');
    },
    subscribeMetrics: () => () => undefined,
    lastMetrics: () => ({ step: 3, stage: 's', policy_version: 3, time_ms: 1, reward_mean: 0.5 }) as unknown as StepMetrics,
  };
}

async function startLearnerGrpc(tls: TlsFiles, map: GrpcRoleMap, denials: GrpcDenial[], calls: string[]): Promise<RunningGrpcServer> {
  const store = new WeightStore(1);
  store.put(makeSnapshot('authz', 3, [{ name: 'w', dtype: 'F32', shape: [4], data: new Uint8Array(16) }]));
  return startGrpcServer({
    address: '127.0.0.1:0', tls,
    services: [service(WeightServiceDefinition, weightServiceHandlers(store)), service(LearnerControlDefinition, controlHandlers(target(calls)))],
    authorize: roleAuthorizer({ map, onDenied: (d) => denials.push(d) }),
  });
}

type Method = keyof typeof LearnerControlDefinition | keyof typeof WeightServiceDefinition;
const METHODS: { name: Method; path: string; call: (c: Clients) => Promise<unknown> }[] = [
  { name: 'getStatus', path: LearnerControlDefinition.getStatus.path, call: (c) => c.control.getStatus({}) },
  { name: 'pause', path: LearnerControlDefinition.pause.path, call: (c) => c.control.pause({ reason: 'test' }) },
  { name: 'resume', path: LearnerControlDefinition.resume.path, call: (c) => c.control.resume({}) },
  { name: 'advanceStage', path: LearnerControlDefinition.advanceStage.path, call: (c) => c.control.advanceStage({ toStage: '' }) },
  { name: 'checkpoint', path: LearnerControlDefinition.checkpoint.path, call: (c) => c.control.checkpoint({}) },
  {
    name: 'streamMetrics', path: LearnerControlDefinition.streamMetrics.path,
    call: async (c) => {
      for await (const m of c.control.streamMetrics({})) return m;
      throw new Error('the metrics stream ended without a message');
    },
  },
  { name: 'getManifest', path: WeightServiceDefinition.getManifest.path, call: (c) => c.weights.getManifest({ runId: 'authz', version: 3, latest: false }) },
  {
    name: 'streamWeights', path: WeightServiceDefinition.streamWeights.path,
    call: async (c) => {
      let n = 0;
      for await (const _chunk of c.weights.streamWeights({ runId: 'authz', version: 3, chunkBytes: 0 })) n++;
      return n;
    },
  },
];

interface Clients {
  control: ReturnType<typeof createGrpcClient<typeof LearnerControlDefinition>>;
  weights: ReturnType<typeof createGrpcClient<typeof WeightServiceDefinition>>;
}

function clients(address: string, tls: TlsFiles, token?: string): Clients & { close(): void } {
  const s = { address, tls, timeoutMs: 5000, streamTimeoutMs: 5000, ...(token !== undefined ? { token } : {}) };
  const control = createGrpcClient(LearnerControlDefinition, s);
  const weights = createGrpcClient(WeightServiceDefinition, s);
  return { control, weights, close: () => (control.close(), weights.close()) };
}

async function assertDenied(p: Promise<unknown>, role: string, path: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AceReasonError, String(e));
    assert.equal(e.code, 'PERMISSION');
    assert.equal((e.cause as { code?: number }).code, GrpcStatus.PERMISSION_DENIED);
    assert.match(e.message, new RegExp(role));
    assert.ok(e.message.includes(path), e.message);
    return true;
  });
}

before(() => {
  execFileSync(process.execPath, [join(root, 'packages/cli/dist/main.js'), 'certs', '--out', certDir], { stdio: 'pipe' });
});

after(() => rmSync(certDir, { recursive: true, force: true }));

test('the policy: control changes only by operator and learner, weights not to verifiers, reads to all', () => {
  const allowed = (path: string): readonly Role[] => LEARNER_GRPC_POLICY[path] ?? [];
  assert.deepEqual([...allowed(LearnerControlDefinition.pause.path)].sort(), ['learner', 'operator']);
  assert.deepEqual([...allowed(WeightServiceDefinition.streamWeights.path)].sort(), ['actor', 'learner', 'operator']);
  assert.deepEqual([...allowed(LearnerControlDefinition.getStatus.path)].sort(), [...ROLES].sort());
  // Every method of both services has an entry (a new one is refused to all until it gets one).
  for (const d of [LearnerControlDefinition, WeightServiceDefinition]) for (const m of Object.values(d)) assert.ok(LEARNER_GRPC_POLICY[m.path], m.path);
});

test('mutual TLS: every role certificate against every method', async () => {
  const denials: GrpcDenial[] = [];
  const calls: string[] = [];
  await using server = await startLearnerGrpc({ ca: file('ca.pem'), cert: file('server.pem'), key: file('server-key.pem') }, {}, denials, calls);
  let expectedDenials = 0;
  for (const role of ROLES) {
    const c = clients(server.address, { ca: file('ca.pem'), cert: file(`${role}.pem`), key: file(`${role}-key.pem`) });
    try {
      for (const m of METHODS) {
        const may = (LEARNER_GRPC_POLICY[m.path] ?? []).includes(role);
        if (may) await assert.doesNotReject(m.call(c), `${role} -> ${m.name}`);
        else {
          await assertDenied(m.call(c), `role "${role}"`, m.path);
          expectedDenials++;
          assert.deepEqual({ role: denials.at(-1)?.role, method: denials.at(-1)?.method }, { role, method: m.path });
        }
      }
    } finally {
      c.close();
    }
  }
  // actor: 4 control changes; verifier: those and 2 weight methods.
  assert.equal(expectedDenials, 10);
  assert.equal(denials.length, 10);
  assert.equal(denials.find((d) => d.role === 'actor')?.identity, 'CN=actor,OU=actor,O=acereason dev');
  // Only operator and learner got through to the control target.
  assert.deepEqual(calls, ['pause', 'resume', 'advance', 'checkpoint', 'pause', 'resume', 'advance', 'checkpoint']);
});

test('a certificate mapped by --grpc-roles: the map decides, an unmapped subject is refused as unauthenticated', async () => {
  const denials: GrpcDenial[] = [];
  const map: GrpcRoleMap = { certificates: { 'CN=verifier,OU=verifier,O=acereason dev': 'operator' } };
  await using server = await startLearnerGrpc({ ca: file('ca.pem'), cert: file('server.pem'), key: file('server-key.pem') }, map, denials, []);
  const asVerifierCert = clients(server.address, { ca: file('ca.pem'), cert: file('verifier.pem'), key: file('verifier-key.pem') });
  const asActorCert = clients(server.address, { ca: file('ca.pem'), cert: file('actor.pem'), key: file('actor-key.pem') });
  try {
    assert.equal((await asVerifierCert.control.pause({ reason: 'mapped' })).ok, true);
    await assertDenied(asActorCert.control.getStatus({}), 'CN=actor,OU=actor,O=acereason dev maps to no role', LearnerControlDefinition.getStatus.path);
    assert.equal(denials.at(-1)?.role, 'unauthenticated');
  } finally {
    asVerifierCert.close();
    asActorCert.close();
  }
});

test('bearer tokens over TLS: each role token against every method; no token or a wrong one is refused', async () => {
  const tokensFile = file('grpc-tokens.json');
  const tokens = JSON.parse(readFileSync(tokensFile, 'utf8')) as Record<Role, string>;
  const denials: GrpcDenial[] = [];
  await using server = await startLearnerGrpc({ cert: file('server.pem'), key: file('server-key.pem') }, readGrpcRoleMap({ tokensFile }), denials, []);
  for (const role of ROLES) {
    const c = clients(server.address, { ca: file('ca.pem') }, tokens[role]);
    try {
      for (const m of METHODS) {
        if ((LEARNER_GRPC_POLICY[m.path] ?? []).includes(role)) await assert.doesNotReject(m.call(c), `${role} -> ${m.name}`);
        else await assertDenied(m.call(c), `role "${role}"`, m.path);
      }
    } finally {
      c.close();
    }
  }
  for (const token of [undefined, 'not-a-token-of-this-cluster']) {
    const c = clients(server.address, { ca: file('ca.pem') }, token);
    try {
      await assertDenied(c.control.getStatus({}), token === undefined ? 'no client certificate or token' : 'token maps to no role', LearnerControlDefinition.getStatus.path);
    } finally {
      c.close();
    }
  }
  assert.equal(denials.length, 12);
});

test('a role map file with an unknown role is refused naming the file and the entry', () => {
  const bad = file('roles-bad.json');
  execFileSync('sh', ['-c', `printf '{"certificates": {"CN=x": "admin"}}' > '${bad}'`]);
  assert.throws(() => readGrpcRoleMap({ rolesFile: bad }), /roles-bad\.json: certificates\.CN=x: expected one of learner, actor, verifier, operator, got "admin"/);
});
