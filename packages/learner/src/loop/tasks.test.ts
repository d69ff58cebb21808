import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleKey, taskMessageId } from './tasks.js';

test('a re-issued slot keeps its sample key (the same responses whichever copy arrives first) under a new message id', () => {
  const first = { step: 7, slot: 3, retry: 0, purpose: { kind: 'train' as const } };
  const again = { ...first, retry: 2 };
  assert.equal(sampleKey(again, 'p-1'), sampleKey(first, 'p-1'));
  assert.notEqual(taskMessageId('r', again, 'ab'.repeat(32)), taskMessageId('r', first, 'ab'.repeat(32)), 'JetStream must not drop the re-issue as a copy');
  assert.notEqual(sampleKey({ ...first, slot: 4 }, 'p-1'), sampleKey(first, 'p-1'));
  assert.notEqual(sampleKey({ ...first, step: 8 }, 'p-1'), sampleKey(first, 'p-1'));
  assert.notEqual(sampleKey(first, 'p-2'), sampleKey(first, 'p-1'));
});
