import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '@acereason/protocol';
import { sampleKey, taskMessageId, type TaskStamp } from './tasks.js';

const stamp: TaskStamp = { version: 4, sha256: 'ab'.repeat(32), stage: { index: 0, enteredAt: 0 } };

test('a re-issued slot keeps its sample key (the same responses whichever copy arrives first) under a new message id', () => {
  const first = { step: 7, slot: 3, retry: 0, purpose: { kind: 'train' as const } };
  const again = { ...first, retry: 2 };
  assert.equal(sampleKey(again, 'p-1'), sampleKey(first, 'p-1'));
  assert.notEqual(taskMessageId('r', again, stamp), taskMessageId('r', first, stamp), 'JetStream must not drop the re-issue as a copy');
  assert.notEqual(sampleKey({ ...first, slot: 4 }, 'p-1'), sampleKey(first, 'p-1'));
  assert.notEqual(sampleKey({ ...first, step: 8 }, 'p-1'), sampleKey(first, 'p-1'));
  assert.notEqual(sampleKey(first, 'p-2'), sampleKey(first, 'p-1'));
});

test('a training task id is the same for the same task and differs by stage entry, version and weights', () => {
  const t = { step: 7, slot: 3, retry: 0, purpose: { kind: 'train' as const } };
  const id = taskMessageId('r', t, stamp);
  assert.equal(taskMessageId('r', t, structuredClone(stamp)), id, 'a resumed learner re-publishes under the same id');
  const others: TaskStamp[] = [
    { ...stamp, stage: { index: 1, enteredAt: 0 } },
    { ...stamp, stage: { index: 0, enteredAt: 5 } },
    { ...stamp, version: 5 },
    { ...stamp, sha256: 'cd'.repeat(32) },
  ];
  assert.equal(new Set([id, ...others.map((s) => taskMessageId('r', t, s))]).size, others.length + 1);
  assert.throws(() => taskMessageId('r', t, { version: 4, sha256: stamp.sha256 }), (e: { code?: string }) => e.code === ErrorCodes.INTERNAL);
});
