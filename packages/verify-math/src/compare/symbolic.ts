import type { ComputeEngine } from '@cortex-js/compute-engine';
import { differ, same, unknown, type Comparison } from './result.js';

/**
 * The symbolic backend (compute-engine), used only when the built-in parser cannot decide. It is
 * slow to import (~0.1-0.3 s), so it is loaded explicitly (workers do it at start) and the pure
 * functions simply skip it while it is not loaded.
 */
let engine: ComputeEngine | null = null;
let loading: Promise<void> | null = null;

/**
 * Loads the backend and exercises it (parse, numeric equality, simplification over the kinds of
 * answers that reach it), so the first real comparison is as fast as any: its library definitions
 * load lazily and cost ~0.4-1 s the first time. Its load-time diagnostics are silenced. (A
 * symbolic sum is not in the warm-up: the backend takes seconds on one.)
 */
export function loadSymbolicBackend(): Promise<void> {
  loading ??= import('@cortex-js/compute-engine').then((m) => {
    const ce = quietly(() => new m.ComputeEngine());
    engine = ce;
    for (const [a, b] of WARM_UP) symbolicCompare(a, b);
  });
  return loading;
}

const WARM_UP: [string, string][] = [
  ['\\frac{x^2-1}{x-1}', 'x+1'],
  ['\\sin^2 x + \\cos^2 x', '1'],
  ['\\tan^2(y)+1', '\\sec^2(y)'],
  ['\\sqrt[3]{x}^2', 'x^{2/3}'],
  ['\\log_2 8 + e^{i\\pi}', '2'],
  ['\\binom{5}{2} \\cdot 3!', '60'],
];

/**
 * Runs `f` with the console silenced: the backend reports its own internal diagnostics (type
 * parsing of its library) with console.error, which is noise on a verifier's stderr. `f` is
 * synchronous, so nothing else can log meanwhile.
 */
/* eslint-disable no-console -- this silences the backend's console output; it logs nothing itself */
function quietly<T>(f: () => T): T {
  const saved = { error: console.error, warn: console.warn, log: console.log, info: console.info };
  const mute = (): void => undefined;
  console.error = mute;
  console.warn = mute;
  console.log = mute;
  console.info = mute;
  try {
    return f();
  } finally {
    Object.assign(console, saved);
  }
}
/* eslint-enable no-console */

export function symbolicBackendLoaded(): boolean {
  return engine !== null;
}

/** Refuses inputs that can make a symbolic engine build giant numbers (power towers, huge exponents). */
export function tooRiskyForSymbolic(s: string): boolean {
  if (s.length > 400) return true;
  // A symbolic sum or product costs the backend seconds (a cheap way to stall a step); constant
  // bounds are evaluated by the built-in parser, other sums compare structurally or not at all.
  if (/\\(?:sum|prod)(?![a-zA-Z])/.test(s)) return true;
  // Prose (a run of four letters outside a command) is no expression; the backend spends ~0.3 s on it.
  if (/[a-zA-Z]{4,}/.test(s.replace(/\\[a-zA-Z]+/g, ' '))) return true;
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
    return quietly(() => {
      const p = ce.parse(pred);
      const g = ce.parse(gold);
      if (!p.isValid || !g.isValid) return unknown('symbolic backend could not parse');
      const eq = p.isEqual(g);
      if (eq === true) return same('symbolically equal (numeric evaluation)');
      const d = ce.box(['Subtract', p, g]).simplify();
      if (d.is(0)) return same('symbolically equal (difference simplifies to 0)');
      if (eq === false) return differ('symbolically different');
      return unknown('symbolic backend undecided');
    });
  } catch (e) {
    return unknown(`symbolic backend failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
