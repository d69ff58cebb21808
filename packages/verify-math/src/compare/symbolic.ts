import type { ComputeEngine } from '@cortex-js/compute-engine';
import { differ, same, unknown, type Comparison } from './result.js';

/**
 * The symbolic backend (compute-engine), used only when the built-in parser cannot decide. It is
 * slow to import (~0.1-0.3 s), so it is loaded explicitly (workers do it at start) and the pure
 * functions simply skip it while it is not loaded.
 */
let engine: ComputeEngine | null = null;
let loading: Promise<void> | null = null;

export function loadSymbolicBackend(): Promise<void> {
  loading ??= import('@cortex-js/compute-engine').then((m) => {
    engine = new m.ComputeEngine();
  });
  return loading;
}

export function symbolicBackendLoaded(): boolean {
  return engine !== null;
}

/** Refuses inputs that can make a symbolic engine build giant numbers (power towers, huge exponents). */
export function tooRiskyForSymbolic(s: string): boolean {
  if (s.length > 400) return true;
  if (/\^\s*\{[^{}]*\^|\^\s*\d+\s*\^|\^\s*\{?\s*-?\d{4,}|!\s*!|\d{40,}/.test(s)) return true;
  return (s.match(/\^/g)?.length ?? 0) > 6;
}

const RELATION = /[=<>]|\\(?:le|ge|ne|approx|in|top|bot|land|lor|neg|wedge|vee)(?![a-zA-Z])|true|false/i;

/** A relation outside subscripts (`\\sum_{k=1}` is fine, `x = 1` is not). */
function isRelation(s: string): boolean {
  return RELATION.test(s.replace(/_\{[^{}]*\}/g, ''));
}

export function symbolicCompare(pred: string, gold: string): Comparison {
  const ce = engine;
  if (ce === null) return unknown('symbolic backend not loaded');
  if (tooRiskyForSymbolic(pred) || tooRiskyForSymbolic(gold)) return unknown('too risky for the symbolic backend');
  // Relations and truth values are decided by the typed comparison only: a symbolic engine may
  // evaluate both \`0 = 0\` and \`x = x\` to True and call them equal.
  if (isRelation(pred) || isRelation(gold)) return unknown('relations are not sent to the symbolic backend');
  try {
    const p = ce.parse(pred);
    const g = ce.parse(gold);
    if (!p.isValid || !g.isValid) return unknown('symbolic backend could not parse');
    const eq = p.isEqual(g);
    if (eq === true) return same('symbolically equal (numeric evaluation)');
    const d = ce.box(['Subtract', p, g]).simplify();
    if (d.is(0)) return same('symbolically equal (difference simplifies to 0)');
    if (eq === false) return differ('symbolically different');
    return unknown('symbolic backend undecided');
  } catch (e) {
    return unknown(`symbolic backend failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
