/**
 * The LaTeX notation forms of the expression grammar: delimited forms (parentheses, |x|, floor,
 * ceil), \frac, \binom, \sqrt (with an index), \sum / \prod with bounds, the constants, and
 * function calls (\sin^2 x, \log_2 x, \sin^{-1} x). Each parses its parts with the grammar's
 * precedence levels (expr.ts).
 */
import type { Expr } from './ast.js';
import type { Grammar } from './cursor.js';
import { ParseFailure } from './tokens.js';

const CLOSERS = new Set([')', ']', '}', '\\}', '\\rangle', '\\rfloor', '\\rceil', '|']);

/** Delimiters that read as a function of what they enclose: opener -> [closer, function]. */
const DELIMITED_FUNCTIONS: Record<string, [string, string]> = { '|': ['|', 'abs'], '\\lfloor': ['\\rfloor', 'floor'], '\\lceil': ['\\rceil', 'ceil'] };

const NOT_A_BOUND = 'a sum or product needs _{k=lo}^{hi}';

const INVERSE_TRIG: Record<string, string> = { sin: 'arcsin', cos: 'arccos', tan: 'arctan', cot: 'arccot', sec: 'arcsec', csc: 'arccsc' };

/** The form an operator token opens (the token is consumed). */
export function opPrimary(p: Grammar, v: string): Expr {
  switch (v) {
    case '(':
    case '[': {
      const e = p.expr();
      if (p.isOp(')') || p.isOp(']')) p.i++;
      else throw new ParseFailure('unbalanced parenthesis');
      return e;
    }
    case '{': {
      const e = p.expr();
      p.expect('}');
      return e;
    }
    case '|':
    case '\\lfloor':
    case '\\lceil': {
      const [close, name] = DELIMITED_FUNCTIONS[v] as [string, string];
      const e = p.expr();
      p.expect(close);
      return { k: 'fn', name, args: [e] };
    }
    case '\\frac': {
      const num = p.group();
      const den = p.group();
      return { k: 'div', num, den };
    }
    case '\\binom': {
      const n = p.group();
      const k = p.group();
      return { k: 'fn', name: 'binom', args: [n, k] };
    }
    case '\\sqrt': {
      if (p.isOp('[')) {
        p.i++;
        const n = p.expr();
        p.expect(']');
        const x = p.group();
        return { k: 'fn', name: 'root', args: [x, n] };
      }
      return { k: 'fn', name: 'sqrt', args: [p.group()] };
    }
    case '\\sum':
    case '\\prod':
      return bigOperator(p, v === '\\sum' ? 'sum' : 'prod');
    case '\\pi':
      return { k: 'const', name: 'pi' };
    case '\\infty':
      return { k: 'const', name: 'inf' };
    default:
      if (CLOSERS.has(v)) throw new ParseFailure(`unexpected ${v}`);
      throw new ParseFailure(`unexpected ${v} in an expression`);
  }
}

/** `\\sum_{k=lo}^{hi} body` (the body is one term): `fn` named sum/prod over [index, lo, hi, body]. */
function bigOperator(p: Grammar, name: 'sum' | 'prod'): Expr {
  p.expect('_');
  p.expect('{');
  const idx = p.peek();
  if (idx?.t !== 'id') throw new ParseFailure(NOT_A_BOUND);
  p.i++;
  p.expect('=');
  const lo = p.expr();
  p.expect('}');
  p.expect('^');
  const hi = p.group();
  const body = p.term();
  return { k: 'fn', name, args: [{ k: 'sym', name: idx.v }, lo, hi, body] };
}

/** A function applied to its arguments (the name token is consumed). */
export function func(p: Grammar, name: string): Expr {
  if (name === 'sqrt') return opPrimary(p, '\\sqrt');
  let power: Expr | null = null;
  let base: Expr | null = null;
  // \sin^2 x, \log_2 x
  for (let k = 0; k < 2; k++) {
    if (p.isOp('^')) {
      p.i++;
      power = p.group();
    } else if (p.isOp('_')) {
      p.i++;
      base = p.group();
    }
  }
  let args: Expr[];
  if (p.isOp('(')) {
    p.i++;
    args = [p.expr()];
    while (p.isOp(',')) {
      p.i++;
      args.push(p.expr());
    }
    if (p.isOp(')') || p.isOp(']')) p.i++;
    else throw new ParseFailure('unclosed function call');
  } else {
    args = [p.power()];
  }
  let e: Expr = base !== null && name === 'log' ? { k: 'fn', name: 'logb', args: [base, ...args] } : { k: 'fn', name, args };
  if (name === 'lg') e = { k: 'fn', name: 'log10', args };
  // \sin^{-1} x is arcsin x, not a reciprocal (the notation answers use).
  if (power !== null && isMinusOne(power) && INVERSE_TRIG[name] !== undefined) return { k: 'fn', name: INVERSE_TRIG[name], args };
  if (power !== null) e = { k: 'pow', base: e, exp: power };
  return e;
}

function isMinusOne(e: Expr): boolean {
  return e.k === 'neg' && e.arg.k === 'num' && e.arg.v.n === 1n && e.arg.v.d === 1n;
}
