import { decimalPlaces, show, symbolsOf, type Expr } from '../parse/ast.js';
import { complexValue, usesImaginaryUnit } from '../parse/complex.js';
import { exactValue, numericValue } from '../parse/evaluate.js';
import { eq, ratToString, type Rational } from '../parse/rational.js';
import { seededUniform } from '@acereason/protocol';
import { differ, same, unknown, type Comparison } from './result.js';

/** How many random points an expression with variables is compared at. */
const POINTS = 8;
const MIN_VALID_POINTS = 3;
/** Relative tolerance between two exact-form expressions evaluated in floating point. */
const FLOAT_RTOL = 1e-9;
/** Most relative error a decimal answer may have against an exact one (about 3 significant digits). */
const DECIMAL_RTOL = 1e-3;

/**
 * Compares two expressions: structurally, then exactly as rationals, then numerically (at random
 * points when they have variables). Decimal tolerance applies only when exactly one side is
 * written with a decimal point.
 */
export function compareExpr(pred: Expr, gold: Expr, seed = 7): Comparison {
  if (show(pred) === show(gold)) return same('structurally identical');
  const pv = exactValue(pred);
  const gv = exactValue(gold);
  // Decimal tolerance is for answers that are decimal numbers, not expressions that contain one.
  const pPlaces = literalPlaces(pred);
  const gPlaces = literalPlaces(gold);
  if (pv !== null && gv !== null) {
    if (eq(pv, gv)) return same(`both equal ${ratToString(gv)}`);
    if ((pPlaces === null) === (gPlaces === null)) return differ(`${ratToString(pv)} != ${ratToString(gv)}`);
    // A rational with a finite decimal expansion (299/100) could have been written exactly, so
    // rounding tolerance is only for values like 1/3 that a decimal can only approximate.
    if (terminates(pPlaces === null ? pv : gv)) return differ(`${ratToString(pv)} != ${ratToString(gv)}`);
  }
  const vars = new Set([...symbolsOf(pred), ...symbolsOf(gold)]);
  if (usesImaginaryUnit(pred) || usesImaginaryUnit(gold)) {
    vars.delete('i');
    return compareComplex(pred, gold, [...vars].sort(), seed, decimalPlaces(pred) !== null || decimalPlaces(gold) !== null);
  }
  if (vars.size === 0) return compareConstants(pred, gold, pPlaces, gPlaces);
  return compareAtPoints(pred, gold, [...vars].sort(), seed, decimalPlaces(pred) !== null || decimalPlaces(gold) !== null);
}

function compareConstants(pred: Expr, gold: Expr, pPlaces: number | null, gPlaces: number | null): Comparison {
  const p = numericValue(pred, new Map());
  const g = numericValue(gold, new Map());
  if (Number.isNaN(p) || Number.isNaN(g)) return unknown('undefined value');
  if (!Number.isFinite(p) || !Number.isFinite(g)) {
    if (p === g && isInfinityLiteral(pred) && isInfinityLiteral(gold)) return same('both infinite');
    return unknown('value too large to compare');
  }
  if ((pPlaces === null) === (gPlaces === null)) {
    return close(p, g, FLOAT_RTOL) ? same('numerically equal') : differ(`${fmt(p)} != ${fmt(g)}`);
  }
  // Exactly one side is a decimal: accept a correctly rounded or truncated decimal with enough digits.
  const places = (pPlaces ?? gPlaces) as number;
  const ulp = Math.pow(10, -places);
  const diff = Math.abs(p - g);
  const scale = Math.max(Math.abs(p), Math.abs(g));
  // A decimal gold states the precision asked for: an exact answer that rounds to it is right.
  if (gPlaces !== null) {
    if (diff <= (ulp / 2) * (1 + 1e-9)) return same(`rounds to the gold decimal (${places} places)`);
    return differ(`${fmt(p)} does not round to ${fmt(g)}`);
  }
  // A decimal prediction must be correctly rounded (half a unit in the last place), or truncated
  // with 3+ places, and carry about 3 significant digits.
  const decimalSide = Math.abs(pPlaces !== null ? p : g);
  const exactSide = Math.abs(pPlaces !== null ? g : p);
  const truncated = places >= 3 && decimalSide < exactSide && diff < ulp;
  const within = diff <= (ulp / 2) * (1 + 1e-9) || truncated;
  if (within && diff <= DECIMAL_RTOL * scale + 1e-12) return same(`decimal within rounding (${places} places)`);
  return differ(`${fmt(p)} != ${fmt(g)} (decimal tolerance)`);
}

function compareAtPoints(pred: Expr, gold: Expr, vars: string[], seed: number, decimal: boolean): Comparison {
  const rnd = seededUniform(seed);
  const rtol = decimal ? 1e-6 : FLOAT_RTOL;
  let valid = 0;
  for (let k = 0; k < POINTS * 3 && valid < POINTS; k++) {
    // Points in (-3, 3) avoiding the integers, where expressions tend to have special values.
    const env = new Map(vars.map((v) => [v, (rnd() * 6 - 3) * (k < POINTS ? 1 : 0.3) + 0.0137]));
    const p = numericValue(pred, env);
    const g = numericValue(gold, env);
    if (!Number.isFinite(p) || !Number.isFinite(g)) {
      if (Number.isFinite(p) !== Number.isFinite(g) && !Number.isNaN(p) && !Number.isNaN(g)) continue;
      continue;
    }
    valid++;
    if (!close(p, g, rtol)) return differ(`differ at ${[...env].map(([n, x]) => `${n}=${x.toFixed(4)}`).join(',')}: ${fmt(p)} vs ${fmt(g)}`);
  }
  if (valid < MIN_VALID_POINTS) return unknown('too few points where both are defined');
  return same(`numerically equal at ${valid} random points`);
}

/** With the imaginary unit: both parts must agree (at random points for the other variables). */
function compareComplex(pred: Expr, gold: Expr, vars: string[], seed: number, decimal: boolean): Comparison {
  const rnd = seededUniform(seed);
  const rtol = decimal ? 1e-6 : FLOAT_RTOL;
  const points = vars.length === 0 ? 1 : POINTS;
  let valid = 0;
  for (let k = 0; k < points * 3 && valid < points; k++) {
    const env = new Map(vars.map((v) => [v, rnd() * 6 - 3 + 0.0137]));
    const p = complexValue(pred, env);
    const g = complexValue(gold, env);
    if (![p.re, p.im, g.re, g.im].every(Number.isFinite)) continue;
    valid++;
    const scale = Math.max(1, Math.hypot(p.re, p.im), Math.hypot(g.re, g.im));
    if (Math.hypot(p.re - g.re, p.im - g.im) > rtol * scale) return differ(`complex values differ: ${fmt(p.re)}${p.im >= 0 ? '+' : ''}${fmt(p.im)}i vs ${fmt(g.re)}${g.im >= 0 ? '+' : ''}${fmt(g.im)}i`);
  }
  if (valid === 0 || (vars.length > 0 && valid < MIN_VALID_POINTS)) return unknown('too few points where both are defined');
  return same(vars.length === 0 ? 'equal as complex numbers' : `equal as complex expressions at ${valid} points`);
}

/** Decimal places of an answer that is a decimal literal (or its negation), else null. */
function literalPlaces(e: Expr): number | null {
  if (e.k === 'neg') return literalPlaces(e.arg);
  return e.k === 'num' ? e.places : null;
}

/** Does this rational have a finite decimal expansion (denominator 2^a 5^b)? */
function terminates(r: Rational): boolean {
  let d = r.d;
  while (d % 2n === 0n) d /= 2n;
  while (d % 5n === 0n) d /= 5n;
  return d === 1n;
}

function close(a: number, b: number, rtol: number): boolean {
  return Math.abs(a - b) <= rtol * Math.max(1, Math.abs(a), Math.abs(b));
}

function isInfinityLiteral(e: Expr): boolean {
  return (e.k === 'const' && e.name === 'inf') || (e.k === 'neg' && isInfinityLiteral(e.arg));
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(8);
}

/** True when a = c * b for one nonzero constant c (equations 2x = 4 and x = 2 are the same). */
export function proportional(a: Expr, b: Expr, seed = 11): Comparison {
  const vars = [...new Set([...symbolsOf(a), ...symbolsOf(b)])].sort();
  const rnd = seededUniform(seed);
  let ratio: number | null = null;
  let valid = 0;
  for (let k = 0; k < POINTS * 3 && valid < POINTS; k++) {
    const env = new Map(vars.map((v) => [v, rnd() * 6 - 3 + 0.0137]));
    const x = numericValue(a, env);
    const y = numericValue(b, env);
    if (!Number.isFinite(x) || !Number.isFinite(y) || Math.abs(y) < 1e-12) continue;
    valid++;
    const r = x / y;
    if (ratio === null) ratio = r;
    else if (!close(r, ratio, 1e-9)) return differ('equations differ');
  }
  if (valid < MIN_VALID_POINTS || ratio === null || Math.abs(ratio) < 1e-12) return unknown('could not compare equations');
  return same('equations equal up to a constant factor');
}
