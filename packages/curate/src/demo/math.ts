/**
 * Demo math: word problems and equations whose solution takes `difficulty` steps, written only in
 * the demo tokenizer's alphabet (lower case, digits, + - * / = ( ) ? . , : and space). Answers are
 * integers, and every intermediate result stays small (multiplying only small values), so the
 * arithmetic is within reach of the demo model.
 */
import { DemoRng } from './rng.js';

export interface DemoMathOptions {
  n: number;
  seed: number;
  /** Operations per problem, 1..8: more steps need a longer response. */
  difficulty: number;
}

export interface DemoMathProblem {
  id: string;
  problem: string;
  answer: string;
  difficulty: number;
}

const NAMES = ['ann', 'bob', 'cai', 'dev', 'eva', 'finn', 'gus', 'hana', 'ivy', 'joe', 'kim', 'lea'];
const THINGS = ['apples', 'coins', 'books', 'stamps', 'marbles', 'cards', 'shells', 'pens'];

function divisors(v: number): number[] {
  const out: number[] = [];
  for (let d = 2; d <= 6; d++) if (v % d === 0 && v / d >= 1) out.push(d);
  return out;
}

/** A story: a start amount, then `steps` changes; asks for the final amount. */
function story(rng: DemoRng, steps: number): { text: string; answer: number } {
  const who = rng.pick(NAMES);
  const what = rng.pick(THINGS);
  let v = rng.int(2, 12);
  const parts = [`${who} has ${v} ${what}.`];
  for (let s = 0; s < steps; s++) {
    const lead = s === 0 ? '' : rng.pick(['then ', 'next ', 'after that ']);
    const op = rng.int(0, 3);
    const divs = divisors(v);
    if (op === 0 || (op === 3 && divs.length === 0) || (op === 1 && v < 2) || (op === 2 && v > 20) || v > 40) {
      if (v > 40 && divs.length > 0) {
        const d = rng.pick(divs);
        parts.push(`${lead}${who} splits them into ${d} equal piles and keeps one pile.`);
        v /= d;
        continue;
      }
      if (v > 40) {
        const c = rng.int(1, 9);
        parts.push(`${lead}${who} gives away ${c}.`);
        v -= c;
        continue;
      }
      const c = rng.int(1, 9);
      parts.push(`${lead}${who} gets ${c} more.`);
      v += c;
    } else if (op === 1) {
      const c = rng.int(1, Math.min(9, v - 1));
      parts.push(`${lead}${who} gives away ${c}.`);
      v -= c;
    } else if (op === 2) {
      const m = rng.int(2, 3);
      parts.push(`${lead}the number of ${what} ${m === 2 ? 'doubles' : 'triples'}.`);
      v *= m;
    } else {
      const d = rng.pick(divs);
      parts.push(`${lead}${who} splits them into ${d} equal piles and keeps one pile.`);
      v /= d;
    }
  }
  parts.push(`how many ${what} does ${who} have now?`);
  return { text: parts.join(' '), answer: v };
}

/** An equation in x built by `steps` operations on x; asks for x. */
function equation(rng: DemoRng, steps: number): { text: string; answer: number } {
  const x = rng.int(1, 12);
  let e = 'x';
  let v = x;
  let atom = true;
  for (let s = 0; s < steps; s++) {
    let op = rng.int(0, 2);
    if (op === 2 && Math.abs(v) > 15) op = rng.int(0, 1);
    if (op === 0) {
      const c = rng.int(1, 9);
      e = `${e}+${c}`;
      v += c;
      atom = false;
    } else if (op === 1) {
      const c = rng.int(1, 9);
      e = `${e}-${c}`;
      v -= c;
      atom = false;
    } else {
      const c = rng.int(2, 4);
      e = atom ? `${c}*${e}` : `${c}*(${e})`;
      v *= c;
      atom = true;
    }
  }
  return { text: `solve for x: ${e}=${v}. what is x?`, answer: x };
}

/** An expression with `steps` operators, evaluated left to right with parentheses shown. */
function expression(rng: DemoRng, steps: number): { text: string; answer: number } {
  let v = rng.int(1, 9);
  let e = String(v);
  for (let s = 0; s < steps; s++) {
    let op = rng.int(0, 2);
    if (op === 2 && Math.abs(v) > 12) op = rng.int(0, 1);
    const c = op === 2 ? rng.int(2, 5) : rng.int(1, 9);
    const wrapped = s === 0 ? e : `(${e})`;
    if (op === 0) {
      e = `${e}+${c}`;
      v += c;
    } else if (op === 1) {
      e = `${e}-${c}`;
      v -= c;
    } else {
      e = `${wrapped}*${c}`;
      v *= c;
    }
  }
  return { text: `what is ${e}?`, answer: v };
}

export function generateDemoMath(opts: DemoMathOptions): DemoMathProblem[] {
  if (!Number.isInteger(opts.difficulty) || opts.difficulty < 1 || opts.difficulty > 8) throw new RangeError('difficulty must be an integer in 1..8');
  const rng = new DemoRng(opts.seed * 9973 + opts.difficulty);
  const out: DemoMathProblem[] = [];
  for (let i = 0; i < opts.n; i++) {
    const kind = rng.int(0, 2);
    const p = kind === 0 ? story(rng, opts.difficulty) : kind === 1 ? equation(rng, opts.difficulty) : expression(rng, opts.difficulty);
    out.push({ id: `math-s${opts.seed}-d${opts.difficulty}-${i}`, problem: p.text, answer: String(p.answer), difficulty: opts.difficulty });
  }
  return out;
}
