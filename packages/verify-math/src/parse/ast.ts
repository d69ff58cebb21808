import type { Rational } from './rational.js';
import { ratToString } from './rational.js';

/** An arithmetic expression. `places` is the number of decimal places of a decimal literal. */
export type Expr =
  | { k: 'num'; v: Rational; places: number | null }
  | { k: 'sym'; name: string }
  | { k: 'const'; name: 'pi' | 'e' | 'inf' }
  | { k: 'add'; args: Expr[] }
  | { k: 'mul'; args: Expr[] }
  | { k: 'neg'; arg: Expr }
  | { k: 'div'; num: Expr; den: Expr }
  | { k: 'pow'; base: Expr; exp: Expr }
  | { k: 'fn'; name: string; args: Expr[] };

/** A canonical spelling: equal spellings mean structurally equal expressions. */
export function show(e: Expr): string {
  switch (e.k) {
    case 'num':
      return ratToString(e.v);
    case 'sym':
      return e.name;
    case 'const':
      return e.name;
    // Sums and products are commutative: sorted, so `a b` and `b a` are one spelling.
    case 'add':
      return `(${e.args.map(show).sort().join('+')})`;
    case 'mul':
      return `(${e.args.map(show).sort().join('*')})`;
    case 'neg':
      return `(-${show(e.arg)})`;
    case 'div':
      return `(${show(e.num)}/${show(e.den)})`;
    case 'pow':
      return `(${show(e.base)}^${show(e.exp)})`;
    case 'fn':
      return `${e.name}(${e.args.map(show).join(',')})`;
  }
}

export function symbolsOf(e: Expr, into: Set<string> = new Set()): Set<string> {
  switch (e.k) {
    case 'sym':
      into.add(e.name);
      break;
    case 'add':
    case 'mul':
    case 'fn':
      for (const a of e.args) symbolsOf(a, into);
      break;
    case 'neg':
      symbolsOf(e.arg, into);
      break;
    case 'div':
      symbolsOf(e.num, into);
      symbolsOf(e.den, into);
      break;
    case 'pow':
      symbolsOf(e.base, into);
      symbolsOf(e.exp, into);
      break;
    default:
      break;
  }
  return into;
}

/** The fewest decimal places of any decimal literal in `e`, or null when it has none. */
export function decimalPlaces(e: Expr): number | null {
  let best: number | null = null;
  const visit = (x: Expr): void => {
    switch (x.k) {
      case 'num':
        if (x.places !== null) best = best === null ? x.places : Math.min(best, x.places);
        break;
      case 'add':
      case 'mul':
      case 'fn':
        x.args.forEach(visit);
        break;
      case 'neg':
        visit(x.arg);
        break;
      case 'div':
        visit(x.num);
        visit(x.den);
        break;
      case 'pow':
        visit(x.base);
        visit(x.exp);
        break;
      default:
        break;
    }
  };
  visit(e);
  return best;
}

/** `e` with every free occurrence of the symbol `name` replaced by `value` (a bound index stays bound). */
export function substitute(e: Expr, name: string, value: Expr): Expr {
  switch (e.k) {
    case 'sym':
      return e.name === name ? value : e;
    case 'num':
    case 'const':
      return e;
    case 'add':
      return { k: 'add', args: e.args.map((a) => substitute(a, name, value)) };
    case 'mul':
      return { k: 'mul', args: e.args.map((a) => substitute(a, name, value)) };
    case 'neg':
      return { k: 'neg', arg: substitute(e.arg, name, value) };
    case 'div':
      return { k: 'div', num: substitute(e.num, name, value), den: substitute(e.den, name, value) };
    case 'pow':
      return { k: 'pow', base: substitute(e.base, name, value), exp: substitute(e.exp, name, value) };
    case 'fn': {
      const [idx] = e.args;
      if ((e.name === 'sum' || e.name === 'prod') && idx?.k === 'sym' && idx.name === name) {
        // The index is bound in the body; only the bounds see the outer value.
        return { k: 'fn', name: e.name, args: e.args.map((a, i) => (i === 1 || i === 2 ? substitute(a, name, value) : a)) };
      }
      return { k: 'fn', name: e.name, args: e.args.map((a) => substitute(a, name, value)) };
    }
  }
}
