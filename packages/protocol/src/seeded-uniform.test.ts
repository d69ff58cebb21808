import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededUniform } from './seeded-uniform.js';

test('seededUniform: a fixed stream per seed, [0, 1) half-open or (0, 1) open, the open one half a step above', () => {
  // The values the generator's former copies (weight init, gradcheck, verify-math, the demo sets) gave for seed 7.
  const half = seededUniform(7);
  assert.deepEqual([half(), half(), half()], [0.011704753153026104, 0.06195825757458806, 0.97690763277933]);
  const open = seededUniform(7, 'open');
  assert.deepEqual([open(), open(), open()], [0.011704753269441426, 0.06195825769100338, 0.9769076328957453]);
  const a = seededUniform(123);
  const b = seededUniform(123, 'open');
  for (let i = 0; i < 100_000; i++) {
    const x = a();
    const y = b();
    assert.ok(x >= 0 && x < 1 && y > 0 && y < 1);
    assert.equal(y - x, 0.5 / 4294967296);
  }
  assert.notEqual(seededUniform(1)(), seededUniform(2)());
});
