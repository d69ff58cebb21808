import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededNormal, seededUniform } from './seeded-uniform.js';

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

test('seededNormal: a fixed N(0, scale^2) stream per seed over the open uniform stream', () => {
  // The values the former copies (weight init, random model directories) gave for seed 7; weight init scales by 0.02.
  const n = seededNormal(7);
  assert.deepEqual([n(), n(), n()], [2.7593729831156204, -0.0680513561837266, -0.9459489607500458]);
  const half = seededNormal(7, 0.5);
  assert.deepEqual([half(), half()], [1.3796864915578102, -0.0340256780918633]);
  const z = seededNormal(123);
  let sum = 0;
  let sq = 0;
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    const x = z();
    assert.ok(Number.isFinite(x));
    sum += x;
    sq += x * x;
  }
  assert.ok(Math.abs(sum / N) < 0.02, `mean ${sum / N}`);
  assert.ok(Math.abs(sq / N - 1) < 0.02, `variance ${sq / N}`);
});
