import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { writeFolderAtomicallyAsync, writeSafetensorsShardsAsync } from './async-writer.js';
import { writeSafetensorsShards } from './hf-dir-writer.js';
import { readSafetensors } from './safetensors.js';
import type { TensorSource } from './safetensors-writer.js';

const tensors = (): TensorSource[] => [
  { name: 'a', shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i * 0.37 - 2) },
  { name: 'b', shape: [1000], data: () => Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e3) },
  { name: 'c', shape: [7, 11, 3], data: Float32Array.from({ length: 231 }, (_, i) => (i % 3 === 0 ? NaN : 1 / (i + 1))) },
];

test('the async shard writer writes the same bytes as the synchronous one (F32 and BF16, one shard and several, chunks and staging smaller and larger than a tensor)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'async-writer-'));
  try {
    for (const dtype of ['F32', 'BF16'] as const) {
      for (const maxShardBytes of [undefined, 2000]) {
        const sync = join(root, `sync-${dtype}-${maxShardBytes}`);
        const async = join(root, `async-${dtype}-${maxShardBytes}`);
        mkdirSync(sync);
        mkdirSync(async);
        const o = { dtype, prefix: 'optimizer', metadata: { step: '3' }, ...(maxShardBytes === undefined ? {} : { maxShardBytes }) };
        const a = writeSafetensorsShards(sync, tensors(), o);
        assert.equal(a.length > 1, maxShardBytes !== undefined, a.join(' '));
        // Chunks (and the staging buffer) smaller than the tensors, between them, and the default (every tensor staged).
        for (const chunkBytes of [100, 1000, undefined]) {
          rmSync(async, { recursive: true, force: true });
          mkdirSync(async);
          const b = await writeSafetensorsShardsAsync(async, tensors(), { ...o, ...(chunkBytes === undefined ? {} : { chunkBytes }) });
          assert.deepEqual(b, a);
          for (const f of a) assert.deepEqual(readFileSync(join(async, f)), readFileSync(join(sync, f)), `${dtype} ${f} chunk ${chunkBytes}`);
        }
      }
    }
    const one = readSafetensors(readFileSync(join(root, 'async-F32-undefined', 'optimizer.safetensors')));
    assert.deepEqual(one.tensors.map((t) => t.name), ['a', 'b', 'c']);
    assert.equal(one.metadata.step, '3');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an async folder write that fails leaves the previous folder and no partial sibling; a bad chunk size is refused', async () => {
  const root = mkdtempSync(join(tmpdir(), 'async-folder-'));
  try {
    const dir = join(root, 'f');
    await writeFolderAtomicallyAsync(dir, async (tmp) => void writeFileSync(join(tmp, 'x'), 'old'));
    await assert.rejects(writeFolderAtomicallyAsync(dir, async () => undefined), (e: unknown) => e instanceof AceReasonError && e.code === ErrorCodes.CONFLICT);
    const bad: TensorSource = { name: 'bad', shape: [4], data: () => new Float32Array(3) };
    await assert.rejects(writeFolderAtomicallyAsync(dir, async (tmp) => void (await writeSafetensorsShardsAsync(tmp, [...tensors(), bad])), true), /bad: 3 values for shape \[4\]/);
    assert.equal(readFileSync(join(dir, 'x'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(root), ['f']);
    await assert.rejects(writeSafetensorsShardsAsync(root, tensors(), { chunkBytes: 2 }), (e: unknown) => e instanceof AceReasonError && e.field === 'chunkBytes');
    await writeFolderAtomicallyAsync(dir, async (tmp) => void writeFileSync(join(tmp, 'y'), 'new'), true);
    assert.ok(existsSync(join(dir, 'y')) && !existsSync(join(dir, 'x')));
    assert.deepEqual(readdirSync(root), ['f']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
