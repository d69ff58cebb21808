import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WeightServiceDefinition, IntegrityError, AceReasonError } from '@acereason/protocol';
import { startGrpcServer, createGrpcClient, service, weightServiceHandlers, fetchWeights, makeSnapshot, WeightStore } from '@acereason/transport';

function tensors(scale: number) {
  return [
    { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [64, 32], data: new Uint8Array(randomBytes(64 * 32 * 4 * scale).buffer.slice(0, 64 * 32 * 4)) },
    { name: 'model.norm.weight', dtype: 'F32', shape: [32], data: new Uint8Array(randomBytes(32 * 4)) },
    { name: 'lm_head.weight', dtype: 'F32', shape: [64, 32], data: new Uint8Array(randomBytes(64 * 32 * 4)) },
    { name: 'empty', dtype: 'F32', shape: [0], data: new Uint8Array(0) },
  ];
}

test('weight manifest and chunk stream round-trip over gRPC with sha256 checks', async () => {
  const store = new WeightStore(2);
  const v1 = makeSnapshot('run1', 1, tensors(1));
  store.put(v1);
  await using server = await startGrpcServer({ address: '127.0.0.1:0', services: [service(WeightServiceDefinition, weightServiceHandlers(store))] });
  const client = createGrpcClient(WeightServiceDefinition, { address: server.address });
  try {
    const got = await fetchWeights(client, { runId: 'run1', version: 1, chunkBytes: 1000 });
    assert.equal(got.manifest.weightsSha256, v1.manifest.weightsSha256);
    assert.equal(got.tensors.length, 4);
    for (const [i, t] of got.tensors.entries()) assert.deepEqual(Buffer.from(t.data), Buffer.from(v1.tensors[i]?.data ?? []));
    // "latest" is asked for explicitly; version 0 is a version like any other (not held here)
    const latest = await fetchWeights(client, { runId: 'run1', version: 'latest' });
    assert.equal(latest.manifest.version, 1);
    await assert.rejects(client.getManifest({ runId: 'run1', version: 0, latest: false }), (e: unknown) => e instanceof AceReasonError && e.code === 'NOT_FOUND');
    // a version the server does not hold is NOT_FOUND
    await assert.rejects(client.getManifest({ runId: 'run1', version: 9, latest: false }), (e: unknown) => e instanceof AceReasonError && e.code === 'NOT_FOUND');
  } finally {
    client.close();
  }
});

test('a corrupted tensor is caught by the sha256 check', async () => {
  const store = new WeightStore();
  const snap = makeSnapshot('run1', 3, tensors(1));
  // Corrupt the bytes after the manifest was computed: the server now serves data that disagrees.
  const first = snap.tensors[0];
  assert.ok(first);
  first.data[10] = (first.data[10] ?? 0) ^ 0xff;
  store.put(snap);
  await using server = await startGrpcServer({ address: '127.0.0.1:0', services: [service(WeightServiceDefinition, weightServiceHandlers(store))] });
  const client = createGrpcClient(WeightServiceDefinition, { address: server.address });
  try {
    await assert.rejects(fetchWeights(client, { runId: 'run1', version: 3 }), (e: unknown) => e instanceof IntegrityError && /sha256/.test(e.message) && e.retryable);
  } finally {
    client.close();
  }
});

test('a call to a dead server fails with a retryable UNAVAILABLE or TIMEOUT, within its deadline', async () => {
  const server = await startGrpcServer({ address: '127.0.0.1:0', services: [service(WeightServiceDefinition, weightServiceHandlers(new WeightStore()))] });
  const address = server.address;
  await server.close();
  const client = createGrpcClient(WeightServiceDefinition, { address, timeoutMs: 500 });
  try {
    await assert.rejects(client.getManifest({ runId: 'r', version: 1, latest: false }), (e: unknown) => e instanceof AceReasonError && e.retryable && (e.code === 'UNAVAILABLE' || e.code === 'TIMEOUT'));
  } finally {
    client.close();
  }
});
