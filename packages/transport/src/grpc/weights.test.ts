import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WeightChunkCodec, WeightServiceDefinition } from '@acereason/protocol';
import { encodeWeightChunk, fetchWeights, makeSnapshot, WeightStore, weightServiceHandlers } from './weights.js';
import { service, startGrpcServer } from './server.js';
import { createGrpcClient } from './client.js';

test('encodeWeightChunk is the protobuf encoding of WeightChunk', () => {
  const cases = [
    { version: 7, tensorIndex: 0, offset: 0, data: new Uint8Array([1, 2, 3]) },
    { version: 2 ** 40 + 3, tensorIndex: 300, offset: 2 ** 33 + 1, data: new Uint8Array(randomBytes(70_000)) },
    { version: 0, tensorIndex: 0, offset: 0, data: new Uint8Array(0) },
  ];
  for (const c of cases) {
    const mine = encodeWeightChunk(c);
    const back = WeightChunkCodec.decode(mine);
    assert.equal(back.version, c.version);
    assert.equal(back.tensorIndex, c.tensorIndex);
    assert.equal(back.offset, c.offset);
    assert.deepEqual(new Uint8Array(back.data), c.data);
  }
});

test('concurrent fetches of one version share its encoded chunks and each verify', async () => {
  const store = new WeightStore(2);
  const tensors = [
    { name: 'embed', dtype: 'F32', shape: [1000, 300], data: new Uint8Array(randomBytes(1000 * 300 * 4)) },
    { name: 'norm', dtype: 'F32', shape: [300], data: new Uint8Array(randomBytes(300 * 4)) },
    { name: 'empty', dtype: 'F32', shape: [0], data: new Uint8Array(0) },
    { name: 'proj', dtype: 'F32', shape: [300, 300], data: new Uint8Array(randomBytes(300 * 300 * 4)) },
  ];
  const snap = makeSnapshot('run1', 1, tensors);
  store.put(snap);
  await using server = await startGrpcServer({ address: '127.0.0.1:0', services: [service(WeightServiceDefinition, weightServiceHandlers(store))] });
  const clients = [0, 1, 2, 3].map(() => createGrpcClient(WeightServiceDefinition, { address: server.address }));
  try {
    for (const chunkBytes of [0, 65_536, 360_000]) {
      const got = await Promise.all(clients.map((c) => fetchWeights(c, { runId: 'run1', version: 1, chunkBytes })));
      for (const g of got) {
        assert.equal(g.manifest.weightsSha256, snap.manifest.weightsSha256);
        g.tensors.forEach((t, i) => assert.deepEqual(new Uint8Array(t.data), tensors[i]?.data, `${t.name} chunk ${chunkBytes}`));
      }
    }
  } finally {
    for (const c of clients) c.close();
  }
});
