/**
 * Arbitrary bytes into every method of WeightService and LearnerControl, sent with a raw client
 * and identity serializers: the server answers each call with a gRPC status before the deadline,
 * never crashes, and still serves a valid call afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, credentials, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { LearnerControlDefinition, ValidationError, WeightServiceDefinition, type LearnerStatus } from '@acereason/protocol';
import { createGrpcClient, fetchWeights, makeSnapshot, service, startGrpcServer, weightServiceHandlers, WeightStore } from '@acereason/transport';
import { controlHandlers, type ControlTarget, type StepMetrics } from '@acereason/learner';
import { iterations, rng, seedFor, withSeed, type Rng } from './random.js';

const identity = (b: Buffer): Buffer => b;

/** A ControlTarget of our own: the learner's interface, with state enough to answer. */
function stubTarget(): ControlTarget {
  let state = 'running';
  const metrics = { step: 3, stage: 'math-8k', policy_version: 3, time_ms: 1, reward_mean: 0.5 } as unknown as StepMetrics;
  return {
    status: (): LearnerStatus => ({ runId: 'fuzz', state, stage: 'math-8k', stageIndex: 0, step: 3, stageStep: 3, policyVersion: 3, weightsSha256: 'ab'.repeat(32), lastStep: null, startedAtMs: 1 }),
    pause: () => void (state = 'paused'),
    resume: () => void (state = 'running'),
    requestAdvance: (to) => {
      if (to !== '' && to !== 'math-16k') throw new ValidationError('toStage', `no stage named "${to.slice(0, 40)}"`);
    },
    requestCheckpoint: () => Promise.resolve('checkpoints/step-3'),
    subscribeMetrics: () => () => undefined,
    lastMetrics: () => metrics,
  };
}

interface Method {
  path: string;
  stream: boolean;
  valid: Buffer[];
}

function methods(): Method[] {
  const w = WeightServiceDefinition;
  const c = LearnerControlDefinition;
  return [
    { path: w.getManifest.path, stream: false, valid: [w.getManifest.requestSerialize({ runId: 'fuzz', version: 1, latest: false }), w.getManifest.requestSerialize({ runId: '', version: 2 ** 52, latest: true })] },
    { path: w.streamWeights.path, stream: true, valid: [w.streamWeights.requestSerialize({ runId: 'fuzz', version: 1, chunkBytes: 1 }), w.streamWeights.requestSerialize({ runId: 'fuzz', version: 0, chunkBytes: 4_000_000_000 })] },
    { path: c.getStatus.path, stream: false, valid: [c.getStatus.requestSerialize({})] },
    { path: c.pause.path, stream: false, valid: [c.pause.requestSerialize({ reason: 'x'.repeat(10_000) })] },
    { path: c.resume.path, stream: false, valid: [c.resume.requestSerialize({})] },
    { path: c.advanceStage.path, stream: false, valid: [c.advanceStage.requestSerialize({ toStage: 'math-16k' }), c.advanceStage.requestSerialize({ toStage: 'nope\u0000' })] },
    { path: c.checkpoint.path, stream: false, valid: [c.checkpoint.requestSerialize({})] },
    { path: c.streamMetrics.path, stream: true, valid: [c.streamMetrics.requestSerialize({})] },
  ];
}

/** Random bytes, or a valid request with bits flipped, cut short, or with junk appended. */
function fuzzBytes(r: Rng, valid: Buffer): Buffer {
  switch (r.int(5)) {
    case 0:
      return Buffer.from(r.bytes(r.int(r.chance(0.1) ? 100_000 : 64)));
    case 1: {
      const b = Buffer.from(valid);
      for (let k = 1 + r.int(4); k > 0 && b.length > 0; k--) {
        const i = r.int(b.length);
        b[i] = (b[i] ?? 0) ^ (1 << r.int(8));
      }
      return b;
    }
    case 2:
      return valid.subarray(0, r.int(valid.length + 1));
    case 3:
      return Buffer.concat([valid, Buffer.from(r.bytes(1 + r.int(32)))]);
    default:
      // A length-delimited field with a length far past the end, or a varint that never ends.
      return Buffer.from(r.chance(0.5) ? [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x41] : [0x10, ...Array.from({ length: 12 }, () => 0xff)]);
  }
}

/** One call; resolves with the final status code, or rejects if none came before deadline + slack. */
function call(client: Client, m: Method, bytes: Buffer, deadlineMs: number): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  const answer = new Promise<number>((resolve) => {
    if (!m.stream) {
      client.makeUnaryRequest(m.path, identity, identity, bytes, new Metadata(), { deadline }, (err: ServiceError | null) => resolve(err ? err.code : GrpcStatus.OK));
      return;
    }
    const s = client.makeServerStreamRequest(m.path, identity, identity, bytes, new Metadata(), { deadline });
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.on('status', (st: { code: number }) => resolve(st.code));
  });
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${m.path}: no status within ${deadlineMs + 3000} ms for ${bytes.length} bytes ${bytes.subarray(0, 32).toString('hex')}`)), deadlineMs + 3000);
  });
  return Promise.race([answer, hang]).finally(() => clearTimeout(timer));
}

test('fuzz gRPC: every WeightService and LearnerControl method answers junk with a status and stays up', async (t) => {
  const seed = seedFor(2000);
  t.diagnostic(`seed ${seed}`);
  await withSeed(seed, async () => {
    const r = rng(seed);
    const n = iterations(100);
    const store = new WeightStore(2);
    store.put(makeSnapshot('fuzz', 1, [{ name: 'w', dtype: 'F32', shape: [256], data: new Uint8Array(1024).fill(7) }]));
    await using server = await startGrpcServer({
      address: '127.0.0.1:0',
      services: [service(WeightServiceDefinition, weightServiceHandlers(store)), service(LearnerControlDefinition, controlHandlers(stubTarget()))],
    });
    const raw = new Client(server.address, credentials.createInsecure());
    const codes = new Map<string, Map<number, number>>();
    let total = 0;
    let retried = 0;
    try {
      for (const m of methods()) {
        const perMethod = new Map<number, number>();
        codes.set(m.path, perMethod);
        // Endless streams (metrics) end at their deadline; keep it short so the batch stays quick.
        const deadlineMs = m.path === LearnerControlDefinition.streamMetrics.path ? 300 : 2000;
        const inputs = [...m.valid, ...Array.from({ length: n }, () => fuzzBytes(r, r.pick(m.valid)))];
        const endless = m.path === LearnerControlDefinition.streamMetrics.path;
        for (let i = 0; i < inputs.length; i += 50) {
          const batch = inputs.slice(i, i + 50);
          const got = await Promise.all(batch.map((b) => call(raw, m, b, deadlineMs)));
          for (const [k, first] of got.entries()) {
            let code = first;
            // A deadline in a busy batch could hide a hang: the same bytes alone, with time to spare,
            // must get a real answer (only the endless metrics stream ends at its deadline).
            if (code === GrpcStatus.DEADLINE_EXCEEDED && !endless) {
              code = await call(raw, m, batch[k] ?? Buffer.alloc(0), 20_000);
              retried++;
              assert.notEqual(code, GrpcStatus.DEADLINE_EXCEEDED, `${m.path}: no answer within 20 s for ${(batch[k] ?? Buffer.alloc(0)).subarray(0, 64).toString('hex')}`);
            }
            assert.ok(Number.isInteger(code) && code >= 0 && code <= 16, `${m.path}: status ${code}`);
            perMethod.set(code, (perMethod.get(code) ?? 0) + 1);
          }
        }
        total += inputs.length;
      }
    } finally {
      raw.close();
    }
    // Still up: valid calls through the typed clients succeed.
    const weights = createGrpcClient(WeightServiceDefinition, { address: server.address, timeoutMs: 5000 });
    const control = createGrpcClient(LearnerControlDefinition, { address: server.address, timeoutMs: 5000 });
    try {
      const snap = await fetchWeights(weights, { runId: 'fuzz', version: 1 });
      assert.equal(snap.manifest.version, 1);
      const st = await control.getStatus({});
      assert.equal(st.runId, 'fuzz');
      const reply = await control.advanceStage({ toStage: 'no-such-stage' });
      assert.equal(reply.ok, false);
      assert.equal(reply.error?.code, 'INVALID');
    } finally {
      weights.close();
      control.close();
    }
    const name = (c: number): string => GrpcStatus[c] ?? String(c);
    for (const [path, per] of codes) t.diagnostic(`${path}: ${[...per.values()].reduce((a, b) => a + b, 0)} calls -> ${[...per].map(([c, k]) => `${name(c)}=${k}`).join(' ')}`);
    t.diagnostic(`gRPC: ${total} inputs fuzzed across ${codes.size} methods; every call ended in a status (${retried} retried alone after a deadline in a busy batch, all answered); server up afterwards`);
  });
});
