import { seededUniform } from '@acereason/protocol';

export interface BenchSample {
  kind: string;
  response: string;
  answer: string;
  /** What a careful grader would say (the mix is built so that this is known). */
  expectCorrect: boolean;
}

const FILLER = 'We consider the cases carefully. Substituting gives 12 + 7 = 19, then 19 / 3 is not an integer, so we try 4. ';

/**
 * A realistic mix of math rollouts: long reasoning, then a boxed answer. Mostly integers and
 * fractions, some expressions, intervals, sets; about half of them wrong, a few without a box.
 */
export function benchMix(n: number, seed = 1): BenchSample[] {
  const rnd = seededUniform(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const out: BenchSample[] = [];
  for (let k = 0; k < n; k++) {
    const r = rnd();
    const wrong = rnd() < 0.45;
    let kind: string;
    let gold: string;
    let pred: string;
    if (r < 0.45) {
      kind = 'integer';
      const v = int(-50, 5000);
      gold = String(v);
      pred = wrong ? String(v + int(1, 9)) : rnd() < 0.2 ? `${v}.0` : String(v);
    } else if (r < 0.65) {
      kind = 'fraction';
      const a = int(1, 99);
      const b = int(2, 99);
      gold = `\\frac{${a}}{${b}}`;
      pred = wrong ? `\\frac{${a + 1}}{${b}}` : rnd() < 0.3 ? `\\dfrac{${a * 2}}{${b * 2}}` : `${a}/${b}`;
    } else if (r < 0.72) {
      kind = 'decimal';
      const a = int(1, 9);
      const b = int(2, 9);
      gold = `\\frac{${a}}{${b}}`;
      pred = (a / b + (wrong ? 0.01 : 0)).toFixed(4);
    } else if (r < 0.82) {
      kind = 'expression';
      const a = int(2, 9);
      gold = `\\frac{x^2-${a * a}}{x-${a}}`;
      pred = wrong ? `x-${a}` : `x+${a}`;
      if (rnd() < 0.4) {
        gold = `${a}\\sqrt{${int(2, 3)}}`;
        pred = wrong ? `\\sqrt{${a * a * 5}}` : `\\sqrt{${a * a * (gold.endsWith('{2}') ? 2 : 3)}}`;
      }
    } else if (r < 0.9) {
      kind = 'interval';
      const a = int(-9, 0);
      const b = int(1, 9);
      gold = `(${a}, ${b}]`;
      pred = wrong ? `[${a}, ${b}]` : rnd() < 0.5 ? `\\left(${a},${b}\\right]` : `${a} < x \\le ${b}`;
    } else if (r < 0.97) {
      kind = 'set';
      const a = int(1, 9);
      const b = int(10, 20);
      gold = `${a}, ${b}, -${a}`;
      pred = wrong ? `\\{${a}, ${b}\\}` : `\\{-${a}, ${b}, ${a}\\}`;
    } else {
      kind = 'no_box';
      gold = String(int(1, 100));
      pred = '';
    }
    const think = FILLER.repeat(int(5, 40));
    const response = pred === '' ? `<think>${think}</think>The answer is ${gold}.` : `<think>${think}</think>\nSo the final answer is $\\boxed{${pred}}$.`;
    out.push({ kind, response, answer: gold, expectCorrect: pred !== '' && !wrong });
  }
  return out;
}
