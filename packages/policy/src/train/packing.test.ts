import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@acereason/protocol';
import { packByTokens, packTokens } from './packing.js';

test('micro-batches by token budget: every sequence once, no row above the budget, one long sequence alone is valid', () => {
  const lengths = [5, 32, 9, 17, 3, 30, 2];
  const groups = packByTokens(lengths, 32);
  assert.deepEqual(groups.flat().sort((a, b) => a - b), [...lengths.keys()]);
  for (const g of groups) assert.ok(g.reduce((s, i) => s + (lengths[i] as number), 0) <= 32);
  assert.equal(groups.length, 4);
  assert.deepEqual(packByTokens([32768], 32768), [[0]]);
});

test('a budget smaller than one sequence is refused naming the field', () => {
  assert.throws(() => packByTokens([4, 40], 32), (e: unknown) => e instanceof ValidationError && /optimizer\.microBatchTokens/.test(e.message) && /40 tokens/.test(e.message));
});

test('packed tokens: positions restart per sequence, attention starts at the sequence, targets stay inside it', () => {
  const p = packTokens([Uint32Array.from([7, 8, 9]), Uint32Array.from([4, 5])]);
  assert.equal(p.T, 5);
  assert.deepEqual([...p.positions], [0, 1, 2, 0, 1]);
  assert.deepEqual([...p.segStart], [0, 0, 0, 3, 3]);
  assert.deepEqual([...p.targets], [8, 9, 0, 5, 0]);
  assert.deepEqual(p.offsets, [0, 3]);
});
