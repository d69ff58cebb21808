import type { Expr } from './ast.js';
import { fnValue, type Env } from './evaluate.js';
import { toNumber } from './rational.js';

/** A complex number; answers with the imaginary unit `i` are evaluated with these. */
export interface C {
  re: number;
  im: number;
}

const c = (re: number, im = 0): C => ({ re, im });
const NAN: C = c(NaN, NaN);

const add = (a: C, b: C): C => c(a.re + b.re, a.im + b.im);
const mul = (a: C, b: C): C => c(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
function div(a: C, b: C): C {
  const d = b.re * b.re + b.im * b.im;
  return c((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}
const exp = (a: C): C => c(Math.exp(a.re) * Math.cos(a.im), Math.exp(a.re) * Math.sin(a.im));
const log = (a: C): C => c(Math.log(Math.hypot(a.re, a.im)), Math.atan2(a.im, a.re));

function pow(a: C, b: C): C {
  if (b.im === 0 && Number.isInteger(b.re) && Math.abs(b.re) <= 64) {
    let r = c(1);
    for (let k = 0; k < Math.abs(b.re); k++) r = mul(r, a);
    return b.re < 0 ? div(c(1), r) : r;
  }
  if (a.re === 0 && a.im === 0) return b.re > 0 ? c(0) : NAN;
  return exp(mul(b, log(a)));
}

/** Does `e` use the imaginary unit (the symbol i)? */
export function usesImaginaryUnit(e: Expr): boolean {
  switch (e.k) {
    case 'sym':
      return e.name === 'i';
    case 'add':
    case 'mul':
    case 'fn':
      return e.args.some(usesImaginaryUnit);
    case 'neg':
      return usesImaginaryUnit(e.arg);
    case 'div':
      return usesImaginaryUnit(e.num) || usesImaginaryUnit(e.den);
    case 'pow':
      return usesImaginaryUnit(e.base) || usesImaginaryUnit(e.exp);
    default:
      return false;
  }
}

/** Complex value at a point, with `i` the imaginary unit. Functions of non-real arguments beyond exp/ln/sqrt/abs are NaN. */
export function complexValue(e: Expr, env: Env): C {
  switch (e.k) {
    case 'num':
      return c(toNumber(e.v));
    case 'sym':
      return e.name === 'i' ? c(0, 1) : c(env.get(e.name) ?? NaN);
    case 'const':
      return c(e.name === 'pi' ? Math.PI : e.name === 'e' ? Math.E : Infinity);
    case 'neg': {
      const a = complexValue(e.arg, env);
      return c(-a.re, -a.im);
    }
    case 'add':
      return e.args.reduce((s, a) => add(s, complexValue(a, env)), c(0));
    case 'mul':
      return e.args.reduce((p, a) => mul(p, complexValue(a, env)), c(1));
    case 'div':
      return div(complexValue(e.num, env), complexValue(e.den, env));
    case 'pow':
      return pow(complexValue(e.base, env), complexValue(e.exp, env));
    case 'fn': {
      const args = e.args.map((a) => complexValue(a, env));
      const [x] = args;
      if (x === undefined) return NAN;
      if (e.name === 'exp') return exp(x);
      if (e.name === 'ln' || e.name === 'log') return log(x);
      if (e.name === 'sqrt') return pow(x, c(0.5));
      if (e.name === 'abs') return c(Math.hypot(x.re, x.im));
      if (args.every((a) => a.im === 0)) return c(fnValue(e.name, args.map((a) => a.re)));
      return NAN;
    }
  }
}
