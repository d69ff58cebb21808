import { show, type Expr } from '../parse/ast.js';
import { asIntervals, type Answer, type RelOp } from '../parse/answer.js';
import { compareAnswers } from './answers.js';
import { compareExpr, proportional } from './expr.js';
import { compareIntervals, relationAsInterval } from './intervals.js';
import { differ, same, type Comparison } from './result.js';
import { collapseChain, isNameLike, statedValue } from './stated.js';

export function againstRelation(pred: Answer, goldSides: Answer[], goldOps: RelOp[]): Comparison {
  const gold = collapseChain({ t: 'rel', sides: goldSides, ops: goldOps });
  if (gold === null) return differ('the gold chain of equalities is inconsistent');
  if (pred.t === 'rel') {
    const chain = collapseChain(pred);
    if (chain === null) return differ('a chain of equalities that is false in the middle');
    pred = chain;
  }
  const { sides, ops } = gold;
  const [g0, g1] = sides;
  // Gold `x = 3` or `f(x) = 3`: a bare 3 is the answer; so is the same label `= 3`.
  if (ops.length === 1 && ops[0] === '=' && g0?.t === 'expr' && isNameLike(g0.e) && g1 !== undefined) {
    if (pred.t !== 'rel') return compareAnswers(pred, g1);
    const pv = pred.ops.length === 1 && pred.ops[0] === '=' ? pred.sides : null;
    if (pv !== null && pv[0]?.t === 'expr' && show(pv[0].e) === show(g0.e) && pv[1] !== undefined) return compareAnswers(pv[1], g1);
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
