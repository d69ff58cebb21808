import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passAtK, scoreByDomain } from './pass-at-k.js';

const binom = (n: number, k: number): number => {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
};

test('pass@k is 1 - C(n-c,k)/C(n,k)', () => {
  for (const [n, c, k] of [[10, 3, 1], [10, 3, 5], [16, 1, 4], [8, 0, 2], [4, 4, 2], [20, 7, 10]] as const) {
    const expected = n - c < k ? 1 : 1 - binom(n - c, k) / binom(n, k);
    assert.ok(Math.abs(passAtK(n, c, k) - expected) < 1e-12, `n=${n} c=${c} k=${k}`);
  }
  assert.ok(Math.abs(passAtK(5, 2, 1) - 0.4) < 1e-12);
  assert.throws(() => passAtK(2, 1, 3), /k: pass@k needs 1 <= k <= n \(k=3, n=2\)/);
});

test('scores are grouped by domain', () => {
  const s = scoreByDomain([{ domain: 'math', n: 4, correct: 2 }, { domain: 'math', n: 4, correct: 0 }, { domain: 'code', n: 4, correct: 4 }], 2);
  assert.deepEqual(s.map((x) => x.domain), ['code', 'math']);
  const math = s[1];
  assert.equal(math?.avgAtK, 0.25);
  assert.ok(Math.abs((math?.passAtK ?? 0) - (1 - 1 / 6) / 2) < 1e-12);
  assert.equal(s[0]?.passAtK, 1);
});
