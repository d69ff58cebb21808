import { substitute, type Expr } from './ast.js';
import * as Q from './rational.js';
import type { Rational } from './rational.js';

/**
 * Exact value of a constant expression when it is rational (1/2 + 1/3, 2^{10}, \sqrt{16}),
 * else null. Never builds a number beyond the size guard of `rational.ts`.
 */
export function exactValue(e: Expr): Rational | null {
  switch (e.k) {
    case 'num':
      return e.v;
    case 'sym':
    case 'const':
      return null;
    case 'neg': {
      const a = exactValue(e.arg);
      return a === null ? null : Q.neg(a);
    }
    case 'add': {
      let acc: Rational | null = Q.ZERO;
      for (const a of e.args) {
        const v = exactValue(a);
        if (v === null || acc === null) return null;
        acc = Q.add(acc, v);
      }
      return acc;
    }
    case 'mul': {
      let acc: Rational | null = Q.ONE;
      for (const a of e.args) {
        const v = exactValue(a);
        if (v === null || acc === null) return null;
        acc = Q.mul(acc, v);
      }
      return acc;
    }
    case 'div': {
      const n = exactValue(e.num);
      const d = exactValue(e.den);
      return n === null || d === null ? null : Q.div(n, d);
    }
    case 'pow': {
      const b = exactValue(e.base);
      if (b === null) return null;
      const x = exactValue(e.exp);
      if (x === null) return null;
      if (x.d === 2n) {
        const r = Q.exactSqrt(b);
        return r === null ? null : Q.pow(r, { n: x.n, d: 1n });
      }
      return Q.pow(b, x);
    }
    case 'fn': {
      const [a0] = e.args;
      if (a0 === undefined) return null;
      if (e.name === 'sum' || e.name === 'prod') return exactBigOperator(e.name, e.args);
      if (e.name === 'sqrt') {
        const a = exactValue(a0);
        return a === null ? null : Q.exactSqrt(a);
      }
      if (e.name === 'abs') {
        const a = exactValue(a0);
        return a === null ? null : a.n < 0n ? Q.neg(a) : a;
      }
      if (e.name === 'fact') {
        const a = exactValue(a0);
        if (a === null || a.d !== 1n || a.n < 0n || a.n > 300n) return null;
        let r = 1n;
        for (let k = 2n; k <= a.n; k++) r *= k;
        return Q.rat(r);
      }
      if (e.name === 'binom') {
        const n = exactValue(a0);
        const k = e.args[1] === undefined ? null : exactValue(e.args[1]);
        if (n === null || k === null || n.d !== 1n || k.d !== 1n || k.n < 0n || k.n > 1000n || n.n < 0n) return null;
        if (k.n > n.n) return Q.ZERO;
        let r = 1n;
        for (let j = 0n; j < k.n; j++) r = (r * (n.n - j)) / (j + 1n);
        return Q.rat(r);
      }
      return null;
    }
  }
}

/** Most terms a sum or product with constant bounds is expanded to. */
const MAX_TERMS = 1000;

function exactBigOperator(name: string, args: Expr[]): Rational | null {
  const [idx, loE, hiE, body] = args;
  if (idx?.k !== 'sym' || loE === undefined || hiE === undefined || body === undefined) return null;
  const lo = exactValue(loE);
  const hi = exactValue(hiE);
  if (lo === null || hi === null || lo.d !== 1n || hi.d !== 1n || hi.n - lo.n > BigInt(MAX_TERMS)) return null;
  let acc: Rational = name === 'sum' ? Q.ZERO : Q.ONE;
  for (let k = lo.n; k <= hi.n; k++) {
    const kv = Q.rat(k);
    const v = kv === null ? null : exactValue(substitute(body, idx.name, { k: 'num', v: kv, places: null }));
    if (v === null) return null;
    const next = name === 'sum' ? Q.add(acc, v) : Q.mul(acc, v);
    if (next === null) return null;
    acc = next;
  }
  return acc;
}

function numericBigOperator(name: string, args: Expr[], env: Env): number {
  const [idx, loE, hiE, body] = args;
  if (idx?.k !== 'sym' || loE === undefined || hiE === undefined || body === undefined) return NaN;
  const lo = numericValue(loE, env);
  const hi = numericValue(hiE, env);
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi - lo > MAX_TERMS * 10) return NaN;
  let acc = name === 'sum' ? 0 : 1;
  const inner = new Map(env);
  for (let k = lo; k <= hi; k++) {
    inner.set(idx.name, k);
    const v = numericValue(body, inner);
    acc = name === 'sum' ? acc + v : acc * v;
  }
  return acc;
}

export type Env = ReadonlyMap<string, number>;

/** Floating-point value at a point; NaN where undefined, +-Infinity where it overflows. */
export function numericValue(e: Expr, env: Env): number {
  switch (e.k) {
    case 'num':
      return Q.toNumber(e.v);
    case 'sym':
      return env.get(e.name) ?? NaN;
    case 'const':
      return e.name === 'pi' ? Math.PI : e.name === 'e' ? Math.E : Infinity;
    case 'neg':
      return -numericValue(e.arg, env);
    case 'add': {
      let s = 0;
      for (const a of e.args) s += numericValue(a, env);
      return s;
    }
    case 'mul': {
      let p = 1;
      for (const a of e.args) p *= numericValue(a, env);
      return p;
    }
    case 'div':
      return numericValue(e.num, env) / numericValue(e.den, env);
    case 'pow': {
      const b = numericValue(e.base, env);
      const x = numericValue(e.exp, env);
      // Odd roots of negatives, as people mean them: (-8)^{1/3} = -2.
      if (b < 0 && !Number.isInteger(x)) {
        const inv = 1 / x;
        if (Number.isInteger(Math.round(inv)) && Math.abs(inv - Math.round(inv)) < 1e-12 && Math.round(inv) % 2 !== 0) return -Math.pow(-b, x);
      }
      return Math.pow(b, x);
    }
    case 'fn':
      if (e.name === 'sum' || e.name === 'prod') return numericBigOperator(e.name, e.args, env);
      return fnValue(e.name, e.args.map((a) => numericValue(a, env)));
  }
}

export function fnValue(name: string, a: number[]): number {
  const [x = NaN, y = NaN] = a;
  switch (name) {
    case 'sqrt':
      return Math.sqrt(x);
    case 'root':
      return x < 0 && Math.round(y) % 2 === 1 ? -Math.pow(-x, 1 / y) : Math.pow(x, 1 / y);
    case 'sin':
      return Math.sin(x);
    case 'cos':
      return Math.cos(x);
    case 'tan':
      return Math.tan(x);
    case 'sec':
      return 1 / Math.cos(x);
    case 'csc':
      return 1 / Math.sin(x);
    case 'cot':
      return 1 / Math.tan(x);
    case 'arcsin':
      return Math.asin(x);
    case 'arccos':
      return Math.acos(x);
    case 'arctan':
      return Math.atan(x);
    case 'arccot':
      return x === 0 ? Math.PI / 2 : Math.atan(1 / x) + (x < 0 ? Math.PI : 0);
    case 'arcsec':
      return Math.acos(1 / x);
    case 'arccsc':
      return Math.asin(1 / x);
    case 'sinh':
      return Math.sinh(x);
    case 'cosh':
      return Math.cosh(x);
    case 'tanh':
      return Math.tanh(x);
    case 'ln':
    case 'log':
      return Math.log(x);
    case 'log10':
      return Math.log10(x);
    case 'logb':
      return Math.log(y) / Math.log(x);
    case 'exp':
      return Math.exp(x);
    case 'abs':
      return Math.abs(x);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'max':
      return Math.max(...a);
    case 'min':
      return Math.min(...a);
    case 'fact':
      return factorial(x);
    case 'gcd':
      return Number.isInteger(x) && Number.isInteger(y) ? gcd(Math.abs(x), Math.abs(y)) : NaN;
    case 'lcm':
      return Number.isInteger(x) && Number.isInteger(y) && x !== 0 && y !== 0 ? Math.abs(x * y) / gcd(Math.abs(x), Math.abs(y)) : NaN;
    case 'binom':
      return Number.isInteger(x) && Number.isInteger(y) ? factorial(x) / (factorial(y) * factorial(x - y)) : NaN;
    default:
      return NaN;
  }
}

function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) return NaN;
  if (n > 170) return Infinity;
  let r = 1;
  for (let k = 2; k <= n; k++) r *= k;
  return r;
}

function gcd(a: number, b: number): number {
  while (b > 0) [a, b] = [b, a % b];
  return a;
}
