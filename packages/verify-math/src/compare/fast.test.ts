import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeAnswer } from '../normalize.js';
import { isEquivalent } from '../verify.js';
import { fastCompare, simpleNumber } from './fast.js';

describe('fastCompare (the caller-thread path of the pool)', () => {
  it('reads only plain numbers and simple fractions', () => {
    for (const s of ['12', '-3', '0.25', '.5', '3/4', '-3/4', '\\frac{3}{4}', '-\\frac{3}{4}', '\\frac{-3}{4}']) assert.notEqual(simpleNumber(s), null, s);
    for (const s of ['x', '2^3', '1' + '0'.repeat(50), '\\frac{x}{2}', '(1,2)', '3/4/5', '--3']) assert.equal(simpleNumber(s), null, s);
  });

  it('agrees with the full checker wherever it answers', () => {
    const pairs: [string, string][] = [
      ['12', '12.0'], ['0.333', '\\frac13'], ['0.3', '\\frac13'], ['3/4', '\\dfrac{6}{8}'], ['-\\frac{1}{2}', '-0.5'],
      ['7', '8'], ['142.86', '\\frac{1000}{7}'], ['142.8', '1000/7'], ['-0', '0'], ['\\frac{-3}{4}', '-0.75'], ['5/0', '1'],
    ];
    for (const [p, g] of pairs) {
      const fast = fastCompare(normalizeAnswer(p), normalizeAnswer(g));
      const full = isEquivalent(p, g, { symbolicFallback: false });
      if (fast !== null) assert.equal(fast.equal === true, full.correct, `${p} vs ${g}`);
    }
  });
});
