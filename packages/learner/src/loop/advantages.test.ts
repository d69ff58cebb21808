import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shapeGroup, type ShapeSettings } from './advantages.js';

const base: ShapeSettings = { overlong: 'mask', maxResponseTokens: 100, overlongPenaltyTokens: 20, advantage: 'grpo', eps: 1e-6 };
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-5, `${a} != ${b}`);

test('GRPO advantages are standardised rewards', () => {
  const g = shapeGroup([1, 0, 0, 1], [false, false, false, false], [10, 10, 10, 10], base);
  // mean 0.5, sample std sqrt(1/3)
  const sd = Math.sqrt(1 / 3);
  g.advantages.forEach((a, i) => close(a, ((i === 0 || i === 3 ? 1 : 0) - 0.5) / sd));
  assert.equal(g.zeroVariance, false);
  close(g.advantages.reduce((x, y) => x + y, 0), 0);
});

test('a group where every response has the same reward carries no signal', () => {
  for (const r of [[1, 1, 1], [0, 0, 0]]) {
    const g = shapeGroup(r, [false, false, false], [5, 5, 5], base);
    assert.equal(g.zeroVariance, true);
    assert.deepEqual(g.advantages, [0, 0, 0]);
  }
});

test('over-long filtering masks truncated responses out of the loss and the statistics', () => {
  const g = shapeGroup([1, 0, 1, 0], [false, false, true, true], [50, 50, 100, 100], base);
  assert.deepEqual(g.masks, [1, 1, 0, 0]);
  assert.equal(g.advantages[2], 0);
  assert.equal(g.advantages[3], 0);
  assert.ok((g.advantages[0] ?? 0) > 0 && (g.advantages[1] ?? 0) < 0);
});

test('zero reward for truncated responses (the 32K-stage setting)', () => {
  const g = shapeGroup([1, 1, 1, 0], [false, true, false, false], [10, 100, 10, 10], { ...base, overlong: 'zero' });
  assert.deepEqual(g.rewards, [1, 0, 1, 0]);
  assert.deepEqual(g.masks, [1, 1, 1, 1]);
});

test('soft penalty grows linearly over the last tokens before the limit', () => {
  const g = shapeGroup([1, 1, 1, 1], [false, false, false, true], [50, 85, 99, 100], { ...base, overlong: 'penalty' });
  close(g.rewards[0] ?? NaN, 1);
  close(g.rewards[1] ?? NaN, 1 - 5 / 20);
  close(g.rewards[2] ?? NaN, 1 - 19 / 20);
  close(g.rewards[3] ?? NaN, 0);
});

test('no-std variant only centres', () => {
  const g = shapeGroup([1, 0], [false, false], [1, 1], { ...base, advantage: 'grpo-no-std' });
  assert.deepEqual(g.advantages, [0.5, -0.5]);
});
