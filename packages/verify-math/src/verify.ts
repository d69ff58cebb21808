import { compareAnswers } from './compare/answers.js';
import { fastCompare } from './compare/fast.js';
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

/** A check reduced to the comparison of two normalised answers, or decided already. */
export type Prepared = { done: MathVerdict } | { done: null; raw: string; pred: string; gold: string };

/**
 * Extraction, limits and normalisation: the linear-time part of a check (the pool runs it on the
 * caller's thread). Several boxes are read as one list only when the gold has several parts.
 */
export function prepareCheck(response: string, goldRaw: string, options: CheckOptions = {}): Prepared {
  const ex = extractAnswer(response, options);
  if (ex.answer === null) return { done: verdict('no_answer', null, options.fallbacks === true ? 'no answer found' : 'no \\boxed{} answer in the final section') };
  let raw = ex.answer;
  if (goldRaw.length > MAX_ANSWER_CHARS) return { done: verdict('error', raw, `gold answer too long (${goldRaw.length} chars)`) };
  const gold = normalizeAnswer(goldRaw, options);
  if (gold === '') return { done: verdict('error', raw, 'gold answer is empty') };
  if (ex.boxes.length > 1 && goldParts(gold) > 1) raw = ex.boxes.join(', ');
  if (raw.length > MAX_ANSWER_CHARS) return { done: verdict('wrong', raw, `answer too long (${raw.length} chars)`) };
  const pred = normalizeAnswer(raw, options);
  if (pred === '') return { done: verdict('no_answer', raw, 'answer is empty after normalisation') };
  if (pred === gold) return { done: verdict('correct', raw, 'identical after normalisation') };
  const fast = fastCompare(pred, gold);
  if (fast !== null) return { done: verdict(fast.equal === true ? 'correct' : 'wrong', raw, fast.reason) };
  return { done: null, raw, pred, gold };
}

/** How many answers a normalised gold holds (a list, a set, `\pm`); 1 when it is one thing or unreadable. */
function goldParts(gold: string): number {
  try {
    const a = parseAnswer(gold);
    return a.t === 'set' ? a.items.length : 1;
  } catch (e) {
    if (e instanceof ParseFailure) return 1;
    throw e;
  }
}

/** Is `pred` (an extracted answer) equivalent to `gold`? Pure and synchronous. */
export function isEquivalent(pred: string, gold: string, options: CompareOptions = {}): MathVerdict {
  if (gold.length > MAX_ANSWER_CHARS) return verdict('error', pred, `gold answer too long (${gold.length} chars)`);
  if (pred.length > MAX_ANSWER_CHARS) return verdict('wrong', pred, `answer too long (${pred.length} chars)`);
  const ng = normalizeAnswer(gold, options);
  const np = normalizeAnswer(pred, options);
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
  try {
    const p = prepareCheck(response, gold, options);
    if (p.done !== null) return p.done;
    return compareNormalized(p.raw, p.pred, p.gold, options);
  } catch (e) {
    return verdict('error', null, `checker failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
