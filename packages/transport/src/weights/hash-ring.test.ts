import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { IntegrityError } from '@acereason/protocol';
import { makeSnapshot, WeightStore, type WeightTensor } from '../grpc/weights.js';
import { startWeightBulkServer } from './bulk-server.js';
import { fetchWeightsBulk } from './bulk-fetch.js';
import { HashJob, RING_SLOTS, SLOT_BYTES } from './hash-ring.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('the hash ring: interleaved jobs fed in pieces of every size (tiny, across slots, more than the ring) get the right digests', async () => {
  const big = new Uint8Array(randomBytes(RING_SLOTS * SLOT_BYTES + SLOT_BYTES / 2 + 5));
  const small = new Uint8Array(randomBytes(1000));
  const a = new HashJob(3);
  const b = new HashJob(2);
  // Job a: tensor 0 in uneven pieces (some contiguous, merged; the last shorter than a slot), tensor 1 empty, tensor 2 tiny.
  let off = 0;
  for (const n of [1, 65_536, SLOT_BYTES - 3, 7, SLOT_BYTES * 3, 12_345]) {
    a.update(0, big.subarray(off, off + n));
    off += n;
    b.update(0, small.subarray(0, 10)); // b's tensor 0 grows between a's pieces
    b.update(0, small.subarray(10, 20));
  }
  a.update(0, big.subarray(off));
  a.end(0);
  a.end(1);
  a.update(2, small);
  a.end(2);
  b.end(0);
  b.update(1, big); // a whole view of a large buffer at once
  b.end(1);
  const [da, db] = await Promise.all([a.digests(), b.digests()]);
  assert.deepEqual(da, [sha(big), sha(new Uint8Array(0)), sha(small)]);
  const bFirst = new Uint8Array(6 * 20);
  for (let i = 0; i < 6; i++) bFirst.set(small.subarray(0, 20), i * 20);
  assert.deepEqual(db, [sha(bFirst), sha(big)]);
});

test('a large version hashed off the receiving thread over a real socket: verified, altered bytes fail, and received memory is freed', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const mib = 1 << 20;
  const tensors: WeightTensor[] = [
    { name: 'embed', dtype: 'F32', shape: [(9 * mib) / 4 + 3], data: new Uint8Array(randomBytes(9 * mib + 12)) },
    { name: 'empty', dtype: 'F32', shape: [0], data: new Uint8Array(0) },
    { name: 'norm', dtype: 'F32', shape: [5], data: new Uint8Array(randomBytes(20)) },
    { name: 'head', dtype: 'F32', shape: [mib], data: new Uint8Array(randomBytes(4 * mib)) },
  ];
  const store = new WeightStore(1);
  const snap = makeSnapshot('run1', 1, tensors);
  store.put(snap);
  await using bulk = await startWeightBulkServer({ store, host: '127.0.0.1', port: 0 });
  const m = { ...snap.manifest, bulkUrl: bulk.urlFor('run1', 1) };
  // Two at once share the worker.
  const [x, y] = await Promise.all([fetchWeightsBulk(m.bulkUrl, m, { offThreadHash: true }), fetchWeightsBulk(m.bulkUrl, m, { offThreadHash: true })]);
  for (const got of [x, y]) got.tensors.forEach((t, i) => assert.ok(Buffer.from(t.data).equals(Buffer.from((tensors[i] as WeightTensor).data)), t.name));
  assert.ok(x.tensors.every((t) => !(t.data.buffer instanceof SharedArrayBuffer)), 'tensors are plain memory: nothing received is shared with the worker');

  // 12 versions received one after another into fresh memory and dropped: after a collection the
  // process holds at most the last few (a socket's closure may outlive its fetch until the next
  // collection), not all twelve (the worker keeps none alive).
  gc();
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 12; i++) await fetchWeightsBulk(m.bulkUrl, m, { offThreadHash: true });
  gc();
  gc();
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 4 * m.totalBytes, `array buffers grew by ${grown} bytes after 12 versions of ${m.totalBytes}`);

  const head = (tensors[3] as WeightTensor).data;
  head[head.byteLength - 1] = (head[head.byteLength - 1] ?? 0) ^ 1;
  await assert.rejects(fetchWeightsBulk(m.bulkUrl, m, { offThreadHash: true }), (e: unknown) => e instanceof IntegrityError && /tensor head sha256/.test(e.message));
  // The worker goes on serving after a failed version.
  head[head.byteLength - 1] = (head[head.byteLength - 1] ?? 0) ^ 1;
  const again = await fetchWeightsBulk(m.bulkUrl, m, { offThreadHash: true });
  assert.equal(again.manifest.weightsSha256, m.weightsSha256);
});
