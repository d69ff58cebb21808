import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alternate, alternateEach, pairFigures, spread } from './bench-rounds.js';
import { ValidationError } from './errors.js';

test('alternate runs ours then baseline in every round and pairs the figures', async () => {
  const calls: string[] = [];
  const r = await alternate({
    rounds: 5,
    better: { tokens_per_s: 'higher', step_s: 'lower' },
    ours: async (i) => (calls.push(`ours${i}`), { tokens_per_s: 100 + i, step_s: 1 }),
    baseline: async (i) => (calls.push(`base${i}`), { tokens_per_s: 50, step_s: 2 + i }),
  });
  assert.deepEqual(calls, ['ours0', 'base0', 'ours1', 'base1', 'ours2', 'base2', 'ours3', 'base3', 'ours4', 'base4']);
  assert.equal(r.rounds, 5);
  assert.deepEqual(r.figures.tokens_per_s.ours, { min: 100, median: 102, max: 104 });
  assert.deepEqual(r.figures.tokens_per_s.ratio, { min: 2, median: 2.04, max: 2.08 });
  // Lower is better: the ratio is baseline / ours, so above 1 still means we are better.
  assert.deepEqual(r.figures.step_s.ratio, { min: 2, median: 4, max: 6 });
  assert.deepEqual(r.ratios, { tokens_per_s: 2.04, step_s: 4 });
  assert.deepEqual(r.figures.step_s.rounds[4], [1, 6]);
});

test('the headline is the median of per-round ratios, not the ratio of medians', () => {
  const r = pairFigures({ x: 'higher' }, [
    { ours: { x: 10 }, baseline: { x: 10 } },
    { ours: { x: 30 }, baseline: { x: 10 } },
    { ours: { x: 20 }, baseline: { x: 40 } },
  ]);
  // ratios 1, 3, 0.5 -> median 1; medians 20 / 10 would claim 2.
  assert.equal(r.ratios.x, 1);
  assert.deepEqual(spread([3, 1, 2, 4]), { min: 1, median: 2.5, max: 4 });
});

test('a missing or non-positive figure is refused, naming the round, side and figure', async () => {
  await assert.rejects(
    alternate({ rounds: 2, better: { a: 'higher' }, ours: async () => ({ a: 1 }), baseline: async (i) => (i === 1 ? ({} as { a: number }) : { a: 1 }) }),
    (e: unknown) => e instanceof ValidationError && e.code === 'INVALID' && e.field === 'rounds[1].baseline.a',
  );
  assert.throws(() => pairFigures({ a: 'lower' }, [{ ours: { a: 0 }, baseline: { a: 1 } }]), (e: unknown) => e instanceof ValidationError && e.field === 'rounds[0].a');
  await assert.rejects(alternate({ rounds: 0, better: { a: 'higher' }, ours: async () => ({ a: 1 }), baseline: async () => ({ a: 1 }) }), (e: unknown) => e instanceof ValidationError && e.field === 'rounds');
});

test('alternateEach takes turns figure by figure within each round', async () => {
  const calls: string[] = [];
  const r = await alternateEach({
    rounds: 2,
    better: { a: 'higher', b: 'lower' },
    ours: async (k, i) => (calls.push(`ours.${k}${i}`), k === 'a' ? 4 : 1),
    baseline: async (k, i) => (calls.push(`base.${k}${i}`), k === 'a' ? 2 : 3 + i),
  });
  assert.deepEqual(calls, ['ours.a0', 'base.a0', 'ours.b0', 'base.b0', 'ours.a1', 'base.a1', 'ours.b1', 'base.b1']);
  assert.equal(r.order, 'alternating per figure: ours, baseline, next figure, ...');
  assert.deepEqual(r.ratios, { a: 2, b: 3.5 });
  assert.deepEqual(r.figures.b.rounds, [[1, 3], [1, 4]]);
});
