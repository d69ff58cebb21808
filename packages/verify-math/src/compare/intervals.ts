import { substitute, symbolsOf, type Expr } from '../parse/ast.js';
import type { Answer, Interval, RelOp } from '../parse/answer.js';
import { exactValue, numericValue } from '../parse/evaluate.js';
import * as Q from '../parse/rational.js';
import { compareExpr } from './expr.js';
import { differ, same, type Comparison } from './result.js';

/** Compares two unions of intervals piece by piece (both sorted by their lower end). */
export function compareIntervals(pred: Interval[], gold: Interval[]): Comparison {
  if (pred.length !== gold.length) return differ(`${pred.length} interval(s) vs ${gold.length}`);
  const ps = sortByLow(pred);
  const gs = sortByLow(gold);
  for (let k = 0; k < gs.length; k++) {
    const p = ps[k];
    const g = gs[k];
    if (p === undefined || g === undefined) return differ('interval count');
    if (p.loClosed !== g.loClosed || p.hiClosed !== g.hiClosed) return differ(`open/closed ends differ in interval ${k + 1}`);
    const lo = compareExpr(p.lo, g.lo);
    if (lo.equal !== true) return differ(`lower end of interval ${k + 1}: ${lo.reason}`);
    const hi = compareExpr(p.hi, g.hi);
    if (hi.equal !== true) return differ(`upper end of interval ${k + 1}: ${hi.reason}`);
  }
  return same('same intervals');
}

function sortByLow(xs: Interval[]): Interval[] {
  const empty = new Map();
  return [...xs].sort((a, b) => numericValue(a.lo, empty) - numericValue(b.lo, empty));
}

const INF: Expr = { k: 'const', name: 'inf' };
const NEG_INF: Expr = { k: 'neg', arg: INF };

/**
 * A relation that only bounds one variable by constants (`x \le 5`, `-2 < x < 3`, `5 \ge x`) as
 * an interval; null for anything else (`x^2 < 4` restates a question, it does not answer it).
 */
export function relationAsInterval(sides: Answer[], ops: RelOp[]): Interval | null {
  const es: Expr[] = [];
  for (const s of sides) {
    if (s.t !== 'expr') return null;
    es.push(s.e);
  }
  const isVar = (e: Expr | undefined): boolean => e?.k === 'sym';
  const isConst = (e: Expr | undefined): boolean => e !== undefined && Number.isFinite(numericValue(e, new Map())) || isInfinite(e);
  const strict = (op: RelOp | undefined): boolean | null => (op === '<' || op === '>' ? true : op === '\\le' || op === '\\ge' ? false : null);
  const dir = (op: RelOp | undefined): number => (op === '<' || op === '\\le' ? 1 : op === '>' || op === '\\ge' ? -1 : 0);
  if (es.length === 2) {
    const solved = solveLinear(es[0] as Expr, es[1] as Expr, ops[0]);
    const [a, b] = solved?.sides ?? es;
    const op = solved?.op ?? ops[0];
    const st = strict(op);
    if (st === null || a === undefined || b === undefined) return null;
    // Orient as  var (op) const  with op in {<, \le} meaning an upper bound.
    let upper: boolean;
    let bound: Expr;
    if (isVar(a) && isConst(b)) {
      upper = dir(op) === 1;
      bound = b;
    } else if (isVar(b) && isConst(a)) {
      upper = dir(op) === -1;
      bound = a;
    } else return null;
    return upper ? { lo: NEG_INF, hi: bound, loClosed: false, hiClosed: !st } : { lo: bound, hi: INF, loClosed: !st, hiClosed: false };
  }
  if (es.length === 3) {
    const [a, x, b] = es;
    const [o1, o2] = ops;
    if (!isVar(x) || !isConst(a) || !isConst(b) || a === undefined || b === undefined) return null;
    const s1 = strict(o1);
    const s2 = strict(o2);
    if (s1 === null || s2 === null || dir(o1) !== dir(o2)) return null;
    return dir(o1) === 1 ? { lo: a, hi: b, loClosed: !s1, hiClosed: !s2 } : { lo: b, hi: a, loClosed: !s2, hiClosed: !s1 };
  }
  return null;
}

function isInfinite(e: Expr | undefined): boolean {
  if (e === undefined) return false;
  const v = numericValue(e, new Map());
  return v === Infinity || v === -Infinity;
}

const num = (v: Q.Rational): Expr => ({ k: 'num', v, places: null });

/**
 * `-x > -1` as `x < 1`, `2x + 1 \le 7` as `x \le 3`: a relation linear in one variable with
 * rational coefficients, solved for it (the sign flips when the coefficient is negative).
 * Null when it is not of that form or already is (`x < 1`).
 */
function solveLinear(lhs: Expr, rhs: Expr, op: RelOp | undefined): { sides: [Expr, Expr]; op: RelOp } | null {
  if (op === undefined || op === '=' || op === '\\ne' || op === '\\approx') return null;
  if (lhs.k === 'sym' || rhs.k === 'sym') return null;
  const vars = new Set([...symbolsOf(lhs), ...symbolsOf(rhs)]);
  if (vars.size !== 1) return null;
  const [v] = [...vars] as [string];
  const d: Expr = { k: 'add', args: [lhs, { k: 'neg', arg: rhs }] };
  const at = (x: Q.Rational): Q.Rational | null => exactValue(substitute(d, v, num(x)));
  const d0 = at(Q.ZERO);
  const d1 = at(Q.ONE);
  if (d0 === null || d1 === null) return null;
  const a = Q.add(d1, Q.neg(d0));
  if (a === null || a.n === 0n) return null;
  // Linear: the value at two more points lies on the line through the first two.
  for (const t of [Q.rat(3n), Q.rat(-7n, 2n)]) {
    if (t === null) return null;
    const got = at(t);
    const line = Q.add(d0, Q.mul(a, t) ?? Q.ZERO);
    if (got === null || line === null || !Q.eq(got, line)) return null;
  }
  const root = Q.div(Q.neg(d0), a);
  if (root === null) return null;
  return { sides: [{ k: 'sym', name: v }, num(root)], op: a.n > 0n ? op : flipOp(op) };
}

function flipOp(op: RelOp): RelOp {
  return op === '<' ? '>' : op === '>' ? '<' : op === '\\le' ? '\\ge' : op === '\\ge' ? '\\le' : op;
}
