import type { Expr } from '../parse/ast.js';
import { parseDecimal } from '../parse/rational.js';
import { compareExpr } from './expr.js';
import type { Comparison } from './result.js';

// Plain numbers and simple fractions, short enough that comparing them is bounded work.
const DECIMAL = /^-?(?:\d{1,40}(?:\.\d{0,40})?|\.\d{1,40})$/;
const SLASH = /^(-?\d{1,40})\/(\d{1,40})$/;
const FRAC = /^(-?)\\frac\{(-?\d{1,40})\}\{(\d{1,40})\}$/;

/** A normalised answer that is a plain number or a simple fraction, as an expression; else null. */
export function simpleNumber(s: string): Expr | null {
  if (DECIMAL.test(s)) {
    const v = parseDecimal(s);
    if (v === null) return null;
    const dot = s.indexOf('.');
    return { k: 'num', v, places: dot < 0 ? null : s.length - dot - 1 };
  }
  const m = SLASH.exec(s) ?? FRAC.exec(s);
  if (m === null) return null;
  const [num, den] = m.length === 3 ? [m[1], m[2]] : [`${m[1] === '-' ? '-' : ''}${m[2]}`, m[3]];
  const n = parseDecimal(num?.replace(/^--/, '') ?? '');
  const d = parseDecimal(den ?? '');
  if (n === null || d === null) return null;
  return { k: 'div', num: { k: 'num', v: n, places: null }, den: { k: 'num', v: d, places: null } };
}

/**
 * The common case (integers, decimals, fractions on both sides) decided without a worker: the
 * work is bounded by the 40-digit limits above, so it is safe on the caller's thread.
 */
export function fastCompare(pred: string, gold: string): Comparison | null {
  const p = simpleNumber(pred);
  if (p === null) return null;
  const g = simpleNumber(gold);
  if (g === null) return null;
  const c = compareExpr(p, g);
  return c.equal === 'unknown' ? null : c;
}
