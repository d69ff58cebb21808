import type { Expr } from '../parse/ast.js';
import { asIntervals, type Answer, type Interval } from '../parse/answer.js';
import { compareExpr } from './expr.js';
import { compareIntervals, relationAsInterval } from './intervals.js';
import { againstRelation } from './relations.js';
import { differ, same, unknown, type Comparison } from './result.js';
import { againstRatio } from './ratio.js';
import { statedValue } from './stated.js';

/**
 * Compares a predicted answer with the gold one. Not symmetric: the gold answer's type decides
 * which readings of the prediction are allowed (a prediction never earns credit by restating the
 * question as a relation when the gold is a value or an interval it does not simply bound).
 */
export function compareAnswers(pred: Answer, gold: Answer): Comparison {
  switch (gold.t) {
    case 'expr':
      return againstExpr(pred, gold.e, gold.percent === true);
    case 'rel':
      return againstRelation(pred, gold.sides, gold.ops);
    case 'intervals':
      return againstIntervals(pred, gold);
    case 'empty':
      if (pred.t === 'empty') return same('both empty');
      if (pred.t === 'intervals' && pred.parts.length === 0) return same('both empty');
      return differ('gold is the empty set');
    case 'set':
      return againstSet(pred, gold.items);
    case 'tuple':
      return againstTuple(pred, gold);
    case 'matrix':
      return againstMatrix(pred, gold.rows);
    case 'ratio':
      return againstRatio(pred, gold.parts);
    case 'text':
      return pred.t === 'text' && pred.s === gold.s ? same('same text') : differ('text answers differ');
  }
}

function againstExpr(pred: Answer, gold: Expr, goldPercent = false): Comparison {
  switch (pred.t) {
    case 'expr': {
      const c = compareExpr(pred.e, gold);
      if (c.equal === true || (pred.percent !== true && !goldPercent)) return c;
      // 50\% is 50 or 0.5: a percent on either side may be read as a fraction of 100.
      const hundred: Expr = { k: 'num', v: { n: 100n, d: 1n }, places: null };
      const scaled = pred.percent === true ? compareExpr({ k: 'div', num: pred.e, den: hundred }, gold) : compareExpr(pred.e, { k: 'div', num: gold, den: hundred });
      return scaled.equal === true ? same(`equal as a percentage (${scaled.reason})`) : c;
    }
    case 'rel': {
      const v = statedValue(pred);
      if (v === null) return differ('a relation where a value was expected');
      return againstExpr(v, gold, goldPercent);
    }
    case 'set':
      if (pred.items.length === 1 && pred.items[0] !== undefined) return againstExpr(pred.items[0], gold, goldPercent);
      return differ(`${pred.items.length} answers where one was expected`);
    default:
      return differ(`a ${pred.t} where a value was expected`);
  }
}

function againstIntervals(pred: Answer, gold: Extract<Answer, { t: 'intervals' }>): Comparison {
  if (pred.t === 'rel') {
    const iv = relationAsInterval(pred.sides, pred.ops);
    if (iv !== null) return compareIntervals([iv], gold.parts);
    return differ('a relation that is not a simple bound, where an interval was expected');
  }
  const pi = asIntervals(pred);
  if (pi === null) return differ(`a ${pred.t} where an interval was expected`);
  return compareIntervals(pi, gold.parts);
}

function againstSet(pred: Answer, gold: Answer[]): Comparison {
  let items: Answer[];
  if (pred.t === 'set') items = pred.items;
  else if (gold.length === 1) items = [pred];
  else return differ(`a ${pred.t} where ${gold.length} answers were expected`);
  const p = dedupe(items.map(unwrapStated));
  const g = dedupe(gold.map(unwrapStated));
  if (p.length !== g.length) return differ(`${p.length} answers vs ${g.length}`);
  // Greedy matching is enough: equality is transitive, so an item matches one class only.
  const used = new Set<number>();
  for (const gi of g) {
    let found = -1;
    let undecided = false;
    for (let k = 0; k < p.length; k++) {
      if (used.has(k)) continue;
      const pk = p[k];
      if (pk === undefined) continue;
      const c = compareAnswers(pk, gi);
      if (c.equal === true) {
        found = k;
        break;
      }
      if (c.equal === 'unknown') undecided = true;
    }
    if (found < 0) return undecided ? unknown('could not decide a set element') : differ('an expected answer is missing');
    used.add(found);
  }
  return same('same set of answers');
}

function unwrapStated(a: Answer): Answer {
  return statedValue(a) ?? a;
}

function dedupe(xs: Answer[]): Answer[] {
  const seen = new Set<string>();
  const out: Answer[] = [];
  for (const x of xs) {
    const key = JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(x);
  }
  return out;
}

function againstTuple(pred: Answer, gold: Extract<Answer, { t: 'tuple' }>): Comparison {
  const gi = asIntervals(gold);
  if (gi !== null) {
    // A gold pair may be an interval: read the prediction as one when it plainly is.
    const pi = pred.t === 'rel' ? simpleBound(pred) : pred.t === 'intervals' || pred.t === 'empty' || gold.brackets !== '()' ? asIntervals(pred) : null;
    if (pi !== null) return compareIntervals(pi, gi);
    if (gold.brackets !== '()') return differ(`a ${pred.t} where an interval was expected`);
  }
  let items: Answer[] | null = null;
  if (pred.t === 'tuple') {
    if (gold.brackets === '()' && pred.brackets !== '()' && pred.brackets !== '<>' && pred.items.length === 2) return differ('an interval where a pair was expected');
    items = pred.items;
  } else if (pred.t === 'matrix') items = vectorOf(pred.rows);
  else if (pred.t === 'set') items = statedInOrder(pred.items);
  else if (pred.t === 'rel' && statedValue(pred) !== null) return againstTuple(statedValue(pred) as Answer, gold);
  if (items === null) return differ(`a ${pred.t} where a tuple was expected`);
  return elementwise(items, gold.items);
}

/** `y = -1, x = 3` as the tuple (3, -1): values stated for distinct names, in alphabetical order of the names (x, y, z). */
function statedInOrder(items: Answer[]): Answer[] | null {
  const byName = new Map<string, Answer>();
  for (const it of items) {
    const lhs = it.t === 'rel' ? it.sides[0] : undefined;
    const v = statedValue(it);
    if (v === null || lhs?.t !== 'expr' || lhs.e.k !== 'sym' || byName.has(lhs.e.name)) return null;
    byName.set(lhs.e.name, v);
  }
  return [...byName.keys()].sort().map((n) => byName.get(n) as Answer);
}

function simpleBound(pred: Extract<Answer, { t: 'rel' }>): Interval[] | null {
  const iv = relationAsInterval(pred.sides, pred.ops);
  return iv === null ? null : [iv];
}

function elementwise(ps: Answer[], gs: Answer[]): Comparison {
  if (ps.length !== gs.length) return differ(`${ps.length} components vs ${gs.length}`);
  for (let k = 0; k < gs.length; k++) {
    const p = ps[k];
    const g = gs[k];
    if (p === undefined || g === undefined) return differ('missing component');
    const c = compareAnswers(p, g);
    if (c.equal !== true) return c.equal === 'unknown' ? c : differ(`component ${k + 1}: ${c.reason}`);
  }
  return same('same components');
}

function vectorOf(rows: Expr[][]): Answer[] | null {
  if (rows.length === 1) return (rows[0] ?? []).map((e) => ({ t: 'expr', e }));
  if (rows.every((r) => r.length === 1)) return rows.map((r) => ({ t: 'expr', e: r[0] as Expr }));
  return null;
}

function againstMatrix(pred: Answer, rows: Expr[][]): Comparison {
  if (pred.t === 'tuple') {
    const v = vectorOf(rows);
    return v === null ? differ('a tuple where a matrix was expected') : elementwise(pred.items, v);
  }
  if (pred.t !== 'matrix') return differ(`a ${pred.t} where a matrix was expected`);
  if (pred.rows.length !== rows.length || pred.rows.some((r, i) => r.length !== rows[i]?.length)) return differ('matrix shapes differ');
  return elementwise(
    pred.rows.flat().map((e) => ({ t: 'expr', e })),
    rows.flat().map((e) => ({ t: 'expr', e })),
  );
}
