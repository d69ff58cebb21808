import type { Expr } from '../parse/ast.js';
import type { Answer } from '../parse/answer.js';
import { numericValue } from '../parse/evaluate.js';
import { compareExpr } from './expr.js';
import { differ, same, type Comparison } from './result.js';

/**
 * Ratios are equal when proportional (`1:2` = `2:4`, `11:21` = `22:42`). A ratio with a zero part
 * is no ratio (`12:00` is a time): it must then match part by part.
 */
export function againstRatio(pred: Answer, gold: Expr[]): Comparison {
  if (pred.t !== 'ratio') return differ(`a ${pred.t} where a ratio was expected`);
  const ps = pred.parts;
  if (ps.length !== gold.length) return differ(`ratios of ${ps.length} and ${gold.length} parts`);
  const hasZero = [...ps, ...gold].some((e) => numericValue(e, new Map()) === 0);
  if (hasZero) {
    for (let k = 0; k < gold.length; k++) {
      const c = compareExpr(ps[k] as Expr, gold[k] as Expr);
      if (c.equal !== true) return c.equal === 'unknown' ? c : differ(`part ${k + 1} of the ratio differs`);
    }
    return same('same parts');
  }
  const [p0, g0] = [ps[0] as Expr, gold[0] as Expr];
  for (let k = 1; k < gold.length; k++) {
    const lhs: Expr = { k: 'mul', args: [ps[k] as Expr, g0] };
    const rhs: Expr = { k: 'mul', args: [gold[k] as Expr, p0] };
    const c = compareExpr(lhs, rhs);
    if (c.equal !== true) return c.equal === 'unknown' ? c : differ('ratios are not proportional');
  }
  // The factor must be positive (conservative: -1:-2 is not accepted for 1:2).
  const sign = Math.sign(numericValue(p0, new Map())) * Math.sign(numericValue(g0, new Map()));
  return sign > 0 ? same('proportional ratios') : differ('ratios of opposite sign');
}
