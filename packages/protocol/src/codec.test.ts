import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecs, packValue, unpackBytes } from './codec.js';
import { SCHEMA_VERSION } from './messages.js';
import { decodeCodeTests, encodeCodeTests } from './references.js';
import { AceReasonError, DecodeError, ValidationError } from './errors.js';
import { exampleTask, exampleGroup, exampleScored, exampleWeightsAnnounced, exampleHeartbeat, exampleStageChanged } from './examples.js';
import { WeightManifestCodec, WeightChunkCodec, LearnerStatusCodec, WeightServiceDefinition } from './gen/acereason_v1.js';

const examples = {
  RolloutTask: exampleTask(),
  TrajectoryGroup: exampleGroup(),
  ScoredGroup: exampleScored(),
  WeightsAnnounced: exampleWeightsAnnounced(),
  Heartbeat: exampleHeartbeat(),
  StageChanged: exampleStageChanged(),
} as const;

for (const [kind, value] of Object.entries(examples)) {
  test(`${kind} round-trips through msgpack with typed arrays intact`, () => {
    const codec = codecs[kind as keyof typeof codecs] as { encode(v: unknown): Uint8Array; decode(b: Uint8Array): unknown };
    const decoded = codec.decode(codec.encode(value));
    assert.deepEqual(decoded, value);
  });
}

test('token ids and logprobs decode as Uint32Array and Float32Array', () => {
  const g = codecs.TrajectoryGroup.decode(codecs.TrajectoryGroup.encode(exampleGroup({ groupSize: 2, tokensPerResponse: 5 })));
  assert.ok(g.responses[0]?.tokens instanceof Uint32Array);
  assert.ok(g.responses[0]?.logprobs instanceof Float32Array);
  assert.equal(g.responses[0]?.tokens.length, 5);
});

test('random bytes never decode: a DecodeError or ValidationError, never something else', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < 2000; i++) {
    const bytes = new Uint8Array(Math.floor(rnd() * 64));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd() * 256);
    assert.throws(() => codecs.TrajectoryGroup.decode(bytes), (e: unknown) => e instanceof AceReasonError);
  }
});

test('truncated msgpack is a DecodeError', () => {
  assert.throws(() => unpackBytes(new Uint8Array([0x92, 0x01])), DecodeError);
});

test('valid msgpack with a wrong shape names the bad field', () => {
  const bad = { ...exampleGroup({ groupSize: 3 }) } as Record<string, unknown>;
  const responses = (bad.responses as unknown[]).slice();
  responses[2] = { ...(responses[2] as object), tokens: [1, 2, 3] };
  bad.responses = responses;
  const bytes = packValue(bad);
  assert.throws(() => codecs.TrajectoryGroup.decode(bytes), (e: unknown) => {
    assert.ok(e instanceof ValidationError);
    assert.equal(e.field, 'responses[2].tokens');
    assert.match(e.message, /responses\[2\]\.tokens: expected a Uint32Array, got an array/);
    return true;
  });
  assert.throws(() => codecs.RolloutTask.decode(packValue({ ...exampleTask(), domain: 'poetry' })), /domain: expected one of "math", "code"/);
  assert.throws(() => codecs.RolloutTask.decode(packValue({ ...exampleTask(), groupSize: 0 })), /groupSize: must be >= 1/);
  assert.throws(() => codecs.Heartbeat.decode(packValue(42)), /expected an object, got a number/);
});

test('a newer schema version is refused with a clear error', () => {
  assert.throws(() => codecs.Heartbeat.decode(packValue({ ...exampleHeartbeat(), schema: SCHEMA_VERSION + 1 })), (e: unknown) => e instanceof AceReasonError && e.code === 'SCHEMA_VERSION' && /newer build/.test(e.message));
});

test('a version-1 task (string identity, no task fields) is refused as written by an older build', () => {
  const { task: _t, ...v1 } = exampleTask();
  assert.throws(() => codecs.RolloutTask.decode(packValue({ ...v1, schema: 1, step: 3, minPolicyVersion: 3 })), (e: unknown) => {
    assert.ok(e instanceof AceReasonError);
    assert.equal(e.code, 'SCHEMA_VERSION');
    assert.equal(e.retryable, false);
    assert.match(e.message, /version 1 is not supported \(this build speaks 3\).*older build/);
    return true;
  });
});

test('a version-2 code task (tests inline) is refused as written by an older build', () => {
  const v2 = { ...exampleTask(), schema: 2, domain: 'code', reference: { type: 'code', inputs: ['1\n'], outputs: ['1\n'] } };
  assert.throws(() => codecs.RolloutTask.decode(packValue(v2)), (e: unknown) => e instanceof AceReasonError && e.code === 'SCHEMA_VERSION' && /version 2 is not supported \(this build speaks 3\).*older build/.test(e.message));
});

test('a code reference carries where its tests are, never the tests: inline tests or a bad digest are refused naming the field', () => {
  const ref = { type: 'code' as const, tests: { dataset: 'cc', promptId: 'p1', sha256: 'a'.repeat(64), bytes: 10 } };
  const ok = codecs.RolloutTask.decode(codecs.RolloutTask.encode({ ...exampleTask(), domain: 'code', reference: ref }));
  assert.deepEqual(ok.reference, ref);
  assert.throws(() => codecs.RolloutTask.decode(packValue({ ...exampleTask(), domain: 'code', reference: { type: 'code', inputs: ['1'], outputs: ['1'] } })), /reference\.tests: expected an object/);
  assert.throws(() => codecs.RolloutTask.decode(packValue({ ...exampleTask(), domain: 'code', reference: { ...ref, tests: { ...ref.tests, sha256: 'xyz' } } })), /reference\.tests\.sha256: expected a sha256/);
});

test('stored code tests round-trip; a bad object names the field', () => {
  const t = { inputs: ['1\n', [2, 3]], outputs: ['1\n', 5], fnName: 'f' };
  assert.deepEqual(decodeCodeTests(encodeCodeTests(t)), t);
  assert.throws(() => decodeCodeTests(new TextEncoder().encode('{"inputs":["1"],"outputs":[]}')), /tests\.outputs/);
  assert.throws(() => decodeCodeTests(new Uint8Array([0xff, 0xfe])), /tests: not JSON/);
});

test('task identity is typed: an eval purpose needs its dataset and round, a scored group agrees with its group', () => {
  const evalTask = { ...exampleTask(), task: { step: 4, slot: 2, retry: 0, purpose: { kind: 'eval' as const, dataset: 'aime', round: 1 } } };
  assert.deepEqual(codecs.RolloutTask.decode(codecs.RolloutTask.encode(evalTask)).task, evalTask.task);
  assert.throws(() => codecs.RolloutTask.decode(packValue({ ...exampleTask(), task: { step: 4, slot: 2, retry: 0, purpose: { kind: 'eval', round: 1 } } })), /task\.purpose\.dataset: expected a string/);
  assert.throws(() => codecs.RolloutTask.decode(packValue({ ...exampleTask(), task: { step: 4, slot: 2, retry: 0, purpose: { kind: 'poll' } } })), /task\.purpose\.kind: expected one of train, eval/);
  const scored = exampleScored({ groupSize: 2 });
  assert.throws(() => codecs.ScoredGroup.decode(packValue({ ...scored, task: { ...scored.task, slot: 9 } })), /task: differs from group\.task/);
  assert.throws(() => codecs.ScoredGroup.decode(packValue({ ...scored, results: scored.results.slice(1) })), /results: has 1 results for 2 responses/);
});

test('a scored group speaks the status vocabulary of its domain', () => {
  const scored = exampleScored({ groupSize: 2 });
  const codeStatus = { ...scored, results: scored.results.map((r) => ({ ...r, status: 'wrong_answer' })) };
  assert.throws(() => codecs.ScoredGroup.decode(packValue(codeStatus)), /results\[0\]\.status: "wrong_answer" is not a math status \(correct, wrong, no_answer, timeout, error\)/);
  const code = { ...codeStatus, group: { ...scored.group, domain: 'code' } };
  assert.equal(codecs.ScoredGroup.decode(packValue(code)).results[0]?.status, 'wrong_answer');
});

test('encode refuses an invalid message at the sender', () => {
  assert.throws(() => codecs.RolloutTask.encode({ ...exampleTask(), seed: -1 }), /seed: must be >= 0/);
});

test('generated protobuf codecs round-trip weight manifests and chunks', () => {
  const m = { runId: 'r', version: 7, weightsSha256: 'ff', tensors: [{ name: 'model.embed_tokens.weight', dtype: 'F32', shape: [512, 64], sha256: 'aa', byteLength: 131072 }], totalBytes: 131072, createdAtMs: 1_700_000_000_000, bulkUrl: '' };
  assert.deepEqual(WeightManifestCodec.decode(WeightManifestCodec.encode(m)), m);
  const c = WeightChunkCodec.decode(WeightChunkCodec.encode({ version: 7, tensorIndex: 0, offset: 65536, data: new Uint8Array([1, 2, 3]) }));
  assert.equal(c.offset, 65536);
  assert.deepEqual([...c.data], [1, 2, 3]);
  const st = LearnerStatusCodec.decode(LearnerStatusCodec.encode({ runId: 'r', state: 'running', stage: 's', stageIndex: 0, step: 1, stageStep: 1, policyVersion: 1, weightsSha256: '', lastStep: { step: 1, stage: 's', policyVersion: 1, values: { reward_mean: 0.5 }, timeMs: 3 }, startedAtMs: 0 }));
  assert.equal(st.lastStep?.values.reward_mean, 0.5);
  assert.equal(WeightServiceDefinition.streamWeights.path, '/acereason.v1.WeightService/StreamWeights');
  assert.equal(WeightServiceDefinition.streamWeights.responseStream, true);
});
