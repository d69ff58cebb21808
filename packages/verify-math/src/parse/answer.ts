import type { Expr } from './ast.js';
import { ExprParser } from './expr.js';
import { ParseFailure, tokenize, type Token } from './tokens.js';

export type RelOp = '=' | '<' | '>' | '\\le' | '\\ge' | '\\ne' | '\\approx';

export interface Interval {
  lo: Expr;
  hi: Expr;
  loClosed: boolean;
  hiClosed: boolean;
}

/** A typed answer: what a normalised answer string means. */
export type Answer =
  | { t: 'expr'; e: Expr; percent?: boolean }
  | { t: 'rel'; sides: Answer[]; ops: RelOp[] }
  | { t: 'intervals'; parts: Interval[] }
  | { t: 'set'; items: Answer[]; braced: boolean }
  | { t: 'tuple'; items: Answer[]; brackets: string }
  | { t: 'matrix'; rows: Expr[][] }
  | { t: 'ratio'; parts: Expr[] }
  | { t: 'empty' }
  | { t: 'text'; s: string };

const RELS = new Set<string>(['=', '<', '>', '\\le', '\\ge', '\\ne', '\\approx']);
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}', '\\{': '\\}', '\\langle': '\\rangle', '\\lfloor': '\\rfloor', '\\lceil': '\\rceil' };
const CLOSE_SET = new Set([')', ']', '}', '\\}', '\\rangle', '\\rfloor', '\\rceil']);

/** Reads a normalised answer string. Throws ParseFailure for text the parser does not cover. */
export function parseAnswer(s: string): Answer {
  const matrix = parseMatrix(s);
  if (matrix !== null) return matrix;
  const toks = tokenize(s);
  // The trailing percent marker of normalizeAnswer: the value may be meant as 50 or as 50/100.
  const last = toks[toks.length - 1];
  if (last?.t === 'op' && last.v === '%') {
    toks.pop();
    if (toks.length === 0) throw new ParseFailure('empty answer');
    const a = item(toks);
    return a.t === 'expr' ? { ...a, percent: true } : a;
  }
  if (toks.length === 0) throw new ParseFailure('empty answer');
  if (toks.every((t) => t.t === 'word' || t.t === 'id')) {
    if (toks.some((t) => t.t === 'word')) return { t: 'text', s: toks.map((t) => t.v).join(' ') };
  }
  return item(toks);
}

function isOp(t: Token | undefined, v: string): boolean {
  return t !== undefined && t.t === 'op' && t.v === v;
}

/** Splits at top-level tokens matching `pred`, tracking all bracket kinds (intervals mix them). */
function splitTop(toks: readonly Token[], pred: (t: Token) => boolean): { parts: Token[][]; seps: Token[] } {
  const parts: Token[][] = [[]];
  const seps: Token[] = [];
  let depth = 0;
  let absOpen = false;
  for (const t of toks) {
    if (t.t === 'op') {
      if (t.v in OPENERS) depth++;
      else if (CLOSE_SET.has(t.v)) depth = Math.max(0, depth - 1);
      else if (t.v === '|' && depth === 0) absOpen = !absOpen;
    }
    if (depth === 0 && !absOpen && pred(t)) {
      seps.push(t);
      parts.push([]);
      continue;
    }
    parts[parts.length - 1]?.push(t);
  }
  return { parts, seps };
}

/** Index of the token closing the bracket opened at `open`, counting all bracket kinds. */
function closingIndex(toks: readonly Token[], open: number): number {
  let depth = 0;
  for (let j = open; j < toks.length; j++) {
    const t = toks[j];
    if (t?.t !== 'op') continue;
    if (t.v in OPENERS) depth++;
    else if (CLOSE_SET.has(t.v)) {
      depth--;
      if (depth === 0) return j;
    }
  }
  return -1;
}

function item(toks: Token[]): Answer {
  if (toks.length === 0) throw new ParseFailure('empty item');
  // Lists: "1, 2", "x = 1 or x = 2".
  const list = splitTop(toks, (t) => isOp(t, ','));
  if (list.parts.length > 1) {
    const parts = list.parts.filter((p) => p.length > 0);
    return { t: 'set', items: parts.map(item), braced: false };
  }
  // Relations, chained: 1 < x \le 3.
  const rel = splitTop(toks, (t) => t.t === 'op' && (RELS.has(t.v) || t.v === '\\in'));
  if (rel.parts.length > 1) {
    const first = rel.seps[0];
    if (rel.parts.length === 2 && first !== undefined && first.v === '\\in') return item(rel.parts[1] ?? []);
    if (rel.seps.some((t) => t.v === '\\in')) throw new ParseFailure('mixed membership');
    return { t: 'rel', sides: rel.parts.map(item), ops: rel.seps.map((t) => t.v as RelOp) };
  }
  // Ratios: 11:21, 1:2:3.
  const ratio = splitTop(toks, (t) => isOp(t, ':'));
  if (ratio.parts.length > 1) {
    if (ratio.parts.some((p) => p.length === 0)) throw new ParseFailure('empty side of a ratio');
    return { t: 'ratio', parts: ratio.parts.map((p) => ExprParser.parseAll(p)) };
  }
  // Unions of intervals.
  const union = splitTop(toks, (t) => isOp(t, '\\cup'));
  if (union.parts.length > 1) {
    const parts: Interval[] = [];
    for (const p of union.parts) {
      const a = item(p);
      const iv = asIntervals(a);
      if (iv === null) throw new ParseFailure('union of non-intervals');
      parts.push(...iv);
    }
    return { t: 'intervals', parts };
  }
  if (toks.length === 1 && isOp(toks[0], '\\emptyset')) return { t: 'empty' };
  if (toks.length === 1 && isOp(toks[0], '\\mathbbR')) return { t: 'intervals', parts: [REALS] };
  const bracketed = bracketedItem(toks);
  if (bracketed !== null) return bracketed;
  // a \pm b is the set {a + b, a - b}.
  const pm = splitTop(toks, (t) => isOp(t, '\\pm') || isOp(t, '\\mp'));
  if (pm.parts.length === 2) {
    const [a = [], b = []] = pm.parts;
    if (a.length === 0) return { t: 'set', items: [expr(b), expr([{ t: 'op', v: '-' }, { t: 'op', v: '(' }, ...b, { t: 'op', v: ')' }])], braced: false };
    return {
      t: 'set',
      items: [expr([...a, { t: 'op', v: '+' }, { t: 'op', v: '(' }, ...b, { t: 'op', v: ')' }]), expr([...a, { t: 'op', v: '-' }, { t: 'op', v: '(' }, ...b, { t: 'op', v: ')' }])],
      braced: false,
    };
  }
  return expr(toks);
}

function expr(toks: Token[]): Answer {
  return { t: 'expr', e: ExprParser.parseAll(toks) };
}

const NEG_INF: Expr = { k: 'neg', arg: { k: 'const', name: 'inf' } };
const POS_INF: Expr = { k: 'const', name: 'inf' };
export const REALS: Interval = { lo: NEG_INF, hi: POS_INF, loClosed: false, hiClosed: false };

function bracketedItem(toks: Token[]): Answer | null {
  const first = toks[0];
  const last = toks[toks.length - 1];
  if (first?.t !== 'op' || last?.t !== 'op') return null;
  if (!(first.v in OPENERS) || closingIndex(toks, 0) !== toks.length - 1) return null;
  const inner = toks.slice(1, -1);
  const parts = splitTop(inner, (t) => isOp(t, ',')).parts;
  if (first.v === '\\{') {
    if (inner.length === 0) return { t: 'empty' };
    return { t: 'set', items: parts.map(item), braced: true };
  }
  if (first.v === '\\langle') return { t: 'tuple', items: parts.map(item), brackets: '<>' };
  // A TeX group around a list (`{-2021, 2021}`) is the list; a group around one thing is that thing.
  if (first.v === '{' && parts.length > 1) return { t: 'set', items: parts.map(item), braced: false };
  if (parts.length < 2 || (first.v !== '(' && first.v !== '[')) return null;
  if (last.v !== ')' && last.v !== ']') return null;
  return { t: 'tuple', items: parts.map(item), brackets: first.v + last.v };
}

/** An answer read as a union of intervals, when it can be one. */
export function asIntervals(a: Answer): Interval[] | null {
  if (a.t === 'intervals') return a.parts;
  if (a.t === 'empty') return [];
  if (a.t === 'tuple' && a.items.length === 2 && a.brackets !== '<>') {
    const [lo, hi] = a.items;
    if (lo?.t !== 'expr' || hi?.t !== 'expr') return null;
    return [{ lo: lo.e, hi: hi.e, loClosed: a.brackets[0] === '[', hiClosed: a.brackets[1] === ']' }];
  }
  return null;
}

function parseMatrix(s: string): Answer | null {
  // `\left[\begin{array}{cc}..\end{array}\right]` and `(\begin{pmatrix}..\end{pmatrix})`: the brackets are the matrix's.
  const wrapped = /^[[(]\s*(\\begin\{[\s\S]*\\end\{[a-zA-Z]+\})\s*[\])]$/.exec(s);
  if (wrapped?.[1] !== undefined) s = wrapped[1];
  const m = /^\\begin\{([pbvBV]?matrix|array|smallmatrix)\}([\s\S]*)\\end\{\1\}$/.exec(s);
  if (!m) return null;
  // Only an array has a column spec ({cc}); in a matrix a leading {1} is the first entry.
  const body = m[1] === 'array' ? (m[2] ?? '').replace(/^\s*\{[^{}]*\}/, '') : (m[2] ?? '');
  const rows = body
    .split(/\\\\/)
    .map((r) => r.trim())
    .filter((r) => r !== '')
    .map((r) => r.split('&').map((c) => ExprParser.parseAll(tokenize(c.trim()))));
  if (rows.length === 0) throw new ParseFailure('empty matrix');
  return { t: 'matrix', rows };
}
