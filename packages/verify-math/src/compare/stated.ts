import { symbolsOf, type Expr } from '../parse/ast.js';
import type { Answer } from '../parse/answer.js';
import { compareExpr } from './expr.js';

/**
 * A chain of equalities `x = 5+5+1 = 11` states its last side. Every constant side in the middle
 * must equal it (`x = 5+5+1 = 7 = 11` says 7 = 11: the chain is false and states nothing).
 * Returns the chain as `first = last`, or null when a middle side contradicts the last.
 */
export function collapseChain(a: Extract<Answer, { t: 'rel' }>): Extract<Answer, { t: 'rel' }> | null {
  if (a.sides.length <= 2 || a.ops.some((o) => o !== '=' && o !== '\\approx')) return a;
  const first = a.sides[0];
  const last = a.sides[a.sides.length - 1];
  if (first === undefined || last === undefined) return null;
  if (last.t === 'expr') {
    for (const mid of a.sides.slice(1, -1)) {
      if (mid.t !== 'expr' || symbolsOf(mid.e).size > 0) continue;
      if (compareExpr(mid.e, last.e).equal !== true) return null;
    }
  }
  const lastOp = a.ops[a.ops.length - 1] ?? '=';
  return { t: 'rel', sides: [first, last], ops: [lastOp] };
}

/** A value stated as `x = v` (or `f(2) = v`, `(x, y) = (1, 2)`, `x = 2 + 3 = 5`): the value. `2 + 1 = v` states nothing. */
export function statedValue(pred: Answer): Answer | null {
  // `x \approx 3.14` states a value too; the decimal tolerance then applies to it.
  if (pred.t !== 'rel' || pred.ops.some((o) => o !== '=' && o !== '\\approx')) return null;
  const chain = collapseChain(pred);
  if (chain === null) return null;
  const first = chain.sides[0];
  const last = chain.sides[chain.sides.length - 1];
  if (first === undefined || last === undefined) return null;
  if (first.t === 'expr' && isNameLike(first.e)) return last;
  if (first.t === 'tuple' && first.items.every((a) => a.t === 'expr' && a.e.k === 'sym')) return last;
  return null;
}

/** `x`, `f(3)` (read as f*3), `f^{-1}(x)`: a single symbol (or its power) applied to something. */
export function isNameLike(e: Expr): boolean {
  if (e.k === 'sym') return true;
  if (e.k !== 'mul' || e.args.length !== 2) return false;
  const head = e.args[0];
  return head?.k === 'sym' || (head?.k === 'pow' && head.base.k === 'sym' && head.exp.k !== 'sym');
}
