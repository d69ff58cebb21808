import type { Expr } from '../parse/ast.js';
import { asIntervals, type Answer, type Interval, type RelOp } from '../parse/answer.js';
import { compareExpr, proportional } from './expr.js';
import { compareIntervals, relationAsInterval } from './intervals.js';
import { differ, same, unknown, type Comparison } from './result.js';

/**
 * Compares a predicted answer with the gold one. Not symmetric: the gold answer's type decides
 * which readings of the prediction are allowed (a prediction never earns credit by restating the
 * question as a relation when the gold is a value or an interval it does not simply bound).
 */
export function compareAnswers(pred: Answer, gold: Answer): Comparison {
  switch (gold.t) {
    case 'expr':
      return againstExpr(pred, gold.e);
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
    case 'text':
      return pred.t === 'text' && pred.s === gold.s ? same('same text') : differ('text answers differ');
  }
}

/** A value stated as `x = v` (or `f(2) = v`, `2 + 1 = v`): the value. */
function statedValue(pred: Answer): Answer | null {
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

function againstExpr(pred: Answer, gold: Expr): Comparison {
  switch (pred.t) {
    case 'expr':
      return compareExpr(pred.e, gold);
    case 'rel': {
      const v = statedValue(pred);
      if (v === null) return differ('a relation where a value was expected');
      return againstExpr(v, gold);
    }
    case 'set':
      if (pred.items.length === 1 && pred.items[0] !== undefined) return againstExpr(pred.items[0], gold);
      return differ(`${pred.items.length} answers where one was expected`);
    default:
      return differ(`a ${pred.t} where a value was expected`);
  }
}

function againstRelation(pred: Answer, sides: Answer[], ops: RelOp[]): Comparison {
  const [g0, g1] = sides;
  // Gold `x = 3`: a bare 3 is the answer; so is `x = 3`.
  if (ops.length === 1 && ops[0] === '=' && g0?.t === 'expr' && g0.e.k === 'sym' && g1 !== undefined) {
    if (pred.t !== 'rel') return compareAnswers(pred, g1);
    const pv = pred.ops.length === 1 && pred.ops[0] === '=' ? pred.sides : null;
    if (pv !== null && pv[0]?.t === 'expr' && pv[0].e.k === 'sym' && pv[0].e.name === g0.e.name && pv[1] !== undefined) return compareAnswers(pv[1], g1);
  }
  // Gold `(x, y) = (1, 2)`: a pair, the same statement, or `x = 1, y = 2`.
  if (ops.length === 1 && ops[0] === '=' && g0?.t === 'tuple' && g1?.t === 'tuple') {
    const names = g0.items.map((a) => (a.t === 'expr' && a.e.k === 'sym' ? a.e.name : null));
    if (names.every((n) => n !== null)) {
      if (pred.t === 'tuple') return compareAnswers(pred, g1);
      if (pred.t === 'rel') {
        const v = statedValue(pred);
        return v === null ? differ('a relation that does not state the values') : compareAnswers(v, g1);
      }
      if (pred.t === 'set') {
        const byName = new Map<string, Answer>();
        for (const it of pred.items) {
          const v = statedValue(it);
          const lhs = it.t === 'rel' ? it.sides[0] : undefined;
          if (v === null || lhs?.t !== 'expr' || lhs.e.k !== 'sym') return differ('a list that does not state each value');
          byName.set(lhs.e.name, v);
        }
        const items = names.map((n) => byName.get(n as string));
        if (items.some((x) => x === undefined) || byName.size !== names.length) return differ('values stated for other variables');
        return compareAnswers({ t: 'tuple', items: items as Answer[], brackets: '()' }, g1);
      }
    }
  }
  if (pred.t === 'intervals' || pred.t === 'tuple') {
    const gi = relationAsInterval(sides, ops);
    const pi = asIntervals(pred);
    if (gi !== null && pi !== null) return compareIntervals(pi, [gi]);
    return differ('an interval against a relation that is not a simple bound');
  }
  if (pred.t !== 'rel') return differ('a value where a relation was expected');
  return compareRelations(pred.sides, pred.ops, sides, ops);
}

function compareRelations(ps: Answer[], pops: RelOp[], gs: Answer[], gops: RelOp[]): Comparison {
  const gi = relationAsInterval(gs, gops);
  const pi = relationAsInterval(ps, pops);
  if (gi !== null && pi !== null) return compareIntervals([pi], [gi]);
  if (ps.length !== gs.length) return differ('relations of different length');
  // Same direction, or the mirror image (x \le 5 vs 5 \ge x).
  const forward = compareSides(ps, pops, gs, gops);
  if (forward.equal === true) return forward;
  const mirrored = compareSides([...ps].reverse(), [...pops].reverse().map(flip), gs, gops);
  if (mirrored.equal === true) return mirrored;
  // Equations: p_l - p_r proportional to g_l - g_r (2x = 4 is x = 2).
  if (ps.length === 2 && pops[0] === '=' && gops[0] === '=') return compareEquations(ps, gs);
  return forward.equal === 'unknown' ? forward : differ(`relations differ: ${forward.reason}`);
}

function flip(op: RelOp): RelOp {
  switch (op) {
    case '<':
      return '>';
    case '>':
      return '<';
    case '\\le':
      return '\\ge';
    case '\\ge':
      return '\\le';
    default:
      return op;
  }
}

function compareSides(ps: Answer[], pops: RelOp[], gs: Answer[], gops: RelOp[]): Comparison {
  if (pops.join() !== gops.join()) return differ('different relation signs');
  for (let k = 0; k < gs.length; k++) {
    const p = ps[k];
    const g = gs[k];
    if (p === undefined || g === undefined) return differ('missing side');
    const c = compareAnswers(p, g);
    if (c.equal !== true) return c;
  }
  return same('same relation');
}

function compareEquations(ps: Answer[], gs: Answer[]): Comparison {
  const [pl, pr] = ps;
  const [gl, gr] = gs;
  if (pl?.t !== 'expr' || pr?.t !== 'expr' || gl?.t !== 'expr' || gr?.t !== 'expr') return differ('equations of non-expressions');
  const pd: Expr = { k: 'add', args: [pl.e, { k: 'neg', arg: pr.e }] };
  const gd: Expr = { k: 'add', args: [gl.e, { k: 'neg', arg: gr.e }] };
  // Identities (2 = 2) say nothing about unknowns: only the same sides (tried before) match them.
  const zero: Expr = { k: 'num', v: { n: 0n, d: 1n }, places: null };
  if (compareExpr(gd, zero).equal === true || compareExpr(pd, zero).equal === true) return differ('an identity is not an equation to compare');
  const direct = compareExpr(pd, gd);
  if (direct.equal === true) return same('equivalent equations');
  return proportional(pd, gd);
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
