import { compareAnswers } from './compare/answers.js';
import type { Comparison } from './compare/result.js';
import { symbolicCompare } from './compare/symbolic.js';
import { extractAnswer } from './extract.js';
import { normalizeAnswer } from './normalize.js';
import { parseAnswer, type Answer } from './parse/answer.js';
import { ParseFailure } from './parse/tokens.js';
import { verdict, type CheckOptions, type CompareOptions, type MathVerdict } from './types.js';

/** Longest answer (in characters) the checker reads; a longer prediction is wrong, a longer gold an error. */
export const MAX_ANSWER_CHARS = 4000;

const LETTER = /^\(?([A-J])\)?$/;
const PRED_LETTER = /^\(?([A-J])\)?(?:[.:)]|\s|$)/;

/** Is `pred` (an extracted answer) equivalent to `gold`? Pure and synchronous. */
export function isEquivalent(pred: string, gold: string, options: CompareOptions = {}): MathVerdict {
  if (gold.length > MAX_ANSWER_CHARS) return verdict('error', pred, `gold answer too long (${gold.length} chars)`);
  if (pred.length > MAX_ANSWER_CHARS) return verdict('wrong', pred, `answer too long (${pred.length} chars)`);
  const ng = normalizeAnswer(gold);
  const np = normalizeAnswer(pred);
  if (ng === '') return verdict('error', pred, 'gold answer is empty');
  if (np === '') return verdict('no_answer', pred, 'answer is empty after normalisation');
  return compareNormalized(pred, np, ng, options);
}

/** Compares two already-normalised answers (`raw` is reported back as the extracted answer). */
export function compareNormalized(raw: string, np: string, ng: string, options: CompareOptions = {}): MathVerdict {
  if (np === ng) return verdict('correct', raw, 'identical after normalisation');
  const goldLetter = LETTER.exec(ng);
  if (goldLetter) {
    const p = PRED_LETTER.exec(np);
    if (p === null) return verdict('wrong', raw, 'gold is a choice letter; the answer is not');
    if (/(?<![a-zA-Z\\])[A-J](?![a-zA-Z])/.test(np.slice(p[0].length))) return verdict('wrong', raw, 'more than one choice letter');
    return p[1] === goldLetter[1] ? verdict('correct', raw, `same choice ${goldLetter[1]}`) : verdict('wrong', raw, `choice ${p[1]} != ${goldLetter[1]}`);
  }
  let gold: Answer;
  try {
    gold = parseAnswer(ng);
  } catch (e) {
    if (!(e instanceof ParseFailure)) throw e;
    return fallback(raw, np, ng, options, `gold not parsed (${e.message})`);
  }
  let pred: Answer;
  try {
    pred = parseAnswer(np);
  } catch (e) {
    if (!(e instanceof ParseFailure)) throw e;
    return fallback(raw, np, ng, options, `answer not parsed (${e.message})`);
  }
  const c = compareAnswers(pred, gold);
  if (c.equal === 'unknown') return fallback(raw, np, ng, options, c.reason);
  return fromComparison(raw, c);
}

function fallback(raw: string, np: string, ng: string, options: CompareOptions, why: string): MathVerdict {
  // Spaces and grouping braces do not change a text; escaped braces \{ \} do.
  const squash = (s: string): string => s.toLowerCase().replace(/\s+|(?<!\\)[{}]/g, '');
  if (squash(np) === squash(ng)) return verdict('correct', raw, 'same text');
  if (options.symbolicFallback !== false) {
    const c = symbolicCompare(np, ng);
    if (c.equal !== 'unknown') return fromComparison(raw, c);
    return verdict('wrong', raw, `not shown equal: ${why}; ${c.reason}`);
  }
  return verdict('wrong', raw, `not shown equal: ${why}`);
}

function fromComparison(raw: string, c: Comparison): MathVerdict {
  return verdict(c.equal === true ? 'correct' : 'wrong', raw, c.reason);
}

/** Extracts the answer from a full response and checks it against the gold answer. */
export function checkAnswer(response: string, gold: string, options: CheckOptions = {}): MathVerdict {
  const ex = extractAnswer(response, options);
  if (ex.answer === null) return verdict('no_answer', null, 'no \\boxed{} answer in the final section');
  try {
    return isEquivalent(ex.answer, gold, options);
  } catch (e) {
    return verdict('error', ex.answer, `checker failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
