import { extractAnswer } from '../extract.js';
import type { MathVerdict } from '../types.js';
import { checkAnswer, isEquivalent } from '../verify.js';
import type { Case } from './case.js';

export interface CaseOutcome {
  verdict: MathVerdict;
  /** The verdict's status is the expected one (and so is the extraction, when the case states it). */
  pass: boolean;
  problem: string | null;
}

/** Runs one case in-process (the pure functions, no worker). */
export function runCase(c: Case): CaseOutcome {
  const opts = { fallbacks: c.fallbacks === true, symbolicFallback: false, decimalComma: c.decimalComma === true };
  const v = c.response !== undefined ? checkAnswer(c.response, c.gold, opts) : isEquivalent(c.pred ?? '', c.gold, opts);
  if (v.status !== c.expect) return { verdict: v, pass: false, problem: `expected ${c.expect}, got ${v.status} (${v.reason})` };
  if (c.extracted !== undefined && c.response !== undefined) {
    const got = extractAnswer(c.response, opts).answer;
    if (got !== c.extracted) return { verdict: v, pass: false, problem: `extracted ${JSON.stringify(got)}, expected ${JSON.stringify(c.extracted)}` };
  }
  return { verdict: v, pass: true, problem: null };
}
