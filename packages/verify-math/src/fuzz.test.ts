import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededUniform } from '@acereason/protocol';
import { normalizeAnswer } from './normalize.js';
import { checkAnswer } from './verify.js';

const ATOMS = [
  '1', '2', '0', '.5', 'x', 'y', 'i', 'e', '\\pi', '\\infty', '+', '-', '*', '/', '^', '_', '(', ')', '[', ']', '{', '}', '\\{', '\\}',
  ',', '=', '<', '\\le', '\\frac', '\\sqrt', '\\cup', '\\pm', '!', '|', '\\text{cm}', '\\left(', '\\right)', '\\sin', '\\log',
  '\\begin{pmatrix}', '\\end{pmatrix}', '&', '\\\\', ' ', '%', '$', '\\circ', '^{', '3\\frac{1}{2}', '10^{10^{10}}', '\\boxed{',
  '\\in', '\\emptyset', 'A', '(B)', 'or', '\\,', '1,000', '204_5', '\\mathbb{R}', '\\langle', '\\rangle', '\\lfloor', '\\rfloor',
];

describe('random LaTeX soup (seeded)', () => {
  it('never throws, and says error only for an empty gold answer', () => {
    const rnd = seededUniform(2026);
    const soup = (): string => {
      let s = '';
      const n = 1 + Math.floor(rnd() * 12);
      for (let k = 0; k < n; k++) s += ATOMS[Math.floor(rnd() * ATOMS.length)] ?? '';
      return s;
    };
    for (let k = 0; k < 4000; k++) {
      const pred = soup();
      const gold = rnd() < 0.5 ? soup() : pred;
      const v = checkAnswer(`</think>\\boxed{${pred}}`, gold);
      assert.ok(['correct', 'wrong', 'no_answer', 'error'].includes(v.status), v.status);
      assert.equal(v.correct, v.status === 'correct');
      if (v.status === 'error') assert.equal(normalizeAnswer(gold), '', `error for ${JSON.stringify(pred)} vs ${JSON.stringify(gold)}: ${v.reason}`);
    }
  });
});
