import type { Expr } from '../parse/ast.js';
import type { Answer } from '../parse/answer.js';

/** A value stated as `x = v` (or `f(2) = v`, `(x, y) = (1, 2)`): the value. `2 + 1 = v` states nothing. */
export function statedValue(pred: Answer): Answer | null {
  // `x \approx 3.14` states a value too; the decimal tolerance then applies to it.
  if (pred.t !== 'rel' || pred.ops.some((o) => o !== '=' && o !== '\\approx')) return null;
  const first = pred.sides[0];
  const last = pred.sides[pred.sides.length - 1];
  if (first === undefined || last === undefined) return null;
  if (first.t === 'expr' && isNameLike(first.e)) return last;
  if (first.t === 'tuple' && first.items.every((a) => a.t === 'expr' && a.e.k === 'sym')) return last;
  return null;
}

function isNameLike(e: Expr): boolean {
  if (e.k === 'sym') return true;
  // f(3) reads as f*3 and f^{-1}(x) as f^{-1}*x: a single symbol (or its power) applied to something.
  if (e.k !== 'mul' || e.args.length !== 2) return false;
  const head = e.args[0];
  return head?.k === 'sym' || (head?.k === 'pow' && head.base.k === 'sym' && head.exp.k !== 'sym');
}
