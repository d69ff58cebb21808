import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AceReasonError } from '@acereason/protocol';
import { startNatsServer } from '../local/nats-server.js';
import { connectNats, drainQuietly } from './connection.js';
import { getObjectChecked, openObjectStore, putObjectOnce, sha256Hex } from './object-store.js';
import { ObjectCache } from './object-cache.js';

const code = (c: string) => (e: unknown) => e instanceof AceReasonError && e.code === c;

test('an object is written once, read back in chunks and checked against its sha256 and size', { timeout: 30_000 }, async () => {
  await using server = await startNatsServer();
  const nc = await connectNats({ servers: server.url, name: 'obj' });
  try {
    const os = await openObjectStore(nc, 'objtest', { create: true });
    // 1 MB: eight 128 KiB chunks.
    const bytes = new Uint8Array(randomBytes(1 << 20));
    const first = await putObjectOnce(os, 'blob/1', bytes);
    assert.equal(first.written, true);
    assert.deepEqual(first.object, { name: 'blob/1', sha256: sha256Hex(bytes), bytes: bytes.length });
    assert.equal((await putObjectOnce(os, 'blob/1', bytes)).written, false, 'the same bytes are not uploaded twice');
    const info = await os.info('blob/1');
    assert.equal(info?.chunks, 8);

    const reader = await openObjectStore(nc, 'objtest', { create: false });
    assert.ok(Buffer.from(await getObjectChecked(reader, first.object)).equals(bytes));
    await assert.rejects(getObjectChecked(reader, { ...first.object, sha256: 'b'.repeat(64) }), (e: unknown) => code('INTEGRITY')(e) && !(e as AceReasonError).retryable && /has sha256 .* the reference says b{64}/.test((e as Error).message));
    await assert.rejects(getObjectChecked(reader, { ...first.object, bytes: 5 }), code('INTEGRITY'));
    await assert.rejects(getObjectChecked(reader, { ...first.object, name: 'blob/none' }), (e: unknown) => code('NOT_FOUND')(e) && /blob\/none is not in the object store/.test((e as Error).message));
    await assert.rejects(getObjectChecked(reader, first.object, { maxBytes: 1000 }), code('INVALID'));

    // Changed content under the same name is written again.
    const other = new Uint8Array([1, 2, 3]);
    assert.equal((await putObjectOnce(os, 'blob/1', other)).written, true);
    assert.deepEqual([...await getObjectChecked(reader, { name: 'blob/1', sha256: sha256Hex(other), bytes: 3 })], [...other]);
  } finally {
    await drainQuietly(nc);
  }
});

test('the object cache keeps the most recently used objects within its byte bound and shares concurrent fetches', async () => {
  const loads: string[] = [];
  const cache = new ObjectCache<string>({ maxBytes: 10 });
  const get = (k: string) => cache.get(k, async () => {
    loads.push(k);
    await new Promise((r) => setTimeout(r, 5));
    if (k === 'bad') throw new Error('unavailable');
    return { value: k.toUpperCase(), bytes: k === 'big' ? 11 : 4 };
  });
  assert.deepEqual(await Promise.all([get('a'), get('a')]), ['A', 'A']);
  await get('b');
  await get('a');
  await get('c'); // 12 bytes: b (least recently used) goes
  assert.deepEqual([cache.has('a'), cache.has('b'), cache.has('c'), cache.bytes], [true, false, true, 8]);
  assert.equal(await get('big'), 'BIG');
  assert.equal(cache.has('big'), false, 'bigger than the bound: returned, not kept');
  await assert.rejects(get('bad'), /unavailable/);
  await assert.rejects(get('bad'), /unavailable/);
  assert.deepEqual(loads, ['a', 'b', 'c', 'big', 'bad', 'bad'], 'one load per miss, none for the concurrent get, failures not cached');
  assert.deepEqual(cache.counts, { hits: 1, misses: 6, evictions: 1 });
});
