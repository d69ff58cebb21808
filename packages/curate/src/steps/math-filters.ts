/**
 * Prompt filters of the recipe. Each is a named predicate that returns why a row goes, or
 * undefined; heuristics are deliberately conservative (a false keep costs less than a false drop
 * of a good problem... except for the answer check, which guards the reward).
 */
import { normalizeAnswer, parseAnswer, type Answer } from '@acereason/verify-math';
import type { MathRow } from '../types.js';

export interface TextFilterOptions {
  /** Problems shorter than this many characters go (default 20). */
  minChars: number;
}

export interface MathFilterOptions extends TextFilterOptions {
  /** Answers longer than this (normalised) are "overly complex" (default 64). */
  maxAnswerChars: number;
}

export const DEFAULT_MATH_FILTERS: MathFilterOptions = { minChars: 20, maxAnswerChars: 64 };

export type FilterVerdict = { reason: string; detail: string } | undefined;

const CHOICES = /(?:^|[\s:])\(?A[).:]\s*\S[\s\S]*?(?:^|\s)\(?B[).:]\s*\S[\s\S]*?(?:^|\s)\(?C[).:]\s*\S/m;
const CHOICE_WORDS = /\b(which of the following|choose (?:the|one)|select (?:the|one)|answer choices?)\b/i;
const TRUE_FALSE_Q = /\b(true or false|true\/false|is (?:it|this|the statement) true)\b/i;
const TRUE_FALSE_A = /^(?:true|false|yes|no|correct|incorrect)$/i;
const PROOF = /\b(prove|proof|show that|demonstrate that|justify (?:that|your)|verify that)\b/i;
const FIGURE = /(\[asy\]|\b(?:figure|fig\.|diagram|picture|shown (?:below|above|in the)|as shown|graph (?:below|above)|image)\b)/i;
const PART = (a: string, b: string): RegExp => new RegExp(`(?:^|[\\s.:;,])\\(${a}\\)[\\s\\S]*(?:^|[\\s.:;,])\\(${b}\\)`, 'm');
const MULTI_PART = [PART('1', '2'), PART('a', 'b'), PART('i', 'ii'), PART('I', 'II'), /\bpart \(?a\)?[\s\S]*\bpart \(?b\)?/i, /(?:^|\n)\s*1[.)]\s[\s\S]*\n\s*2[.)]\s/];
const ENGLISH = new Set(['the', 'of', 'and', 'is', 'what', 'find', 'how', 'many', 'if', 'to', 'in', 'that', 'let', 'are', 'for', 'with', 'compute', 'determine', 'calculate', 'be', 'value', 'number', 'a', 'an']);

function latinShare(text: string): { letters: number; latin: number } {
  // LaTeX commands are Latin in any language; count prose only.
  const prose = text.replace(/\\[a-zA-Z]+/g, ' ').replace(/\$[^$]*\$/g, ' ');
  const letters = prose.match(/\p{L}/gu)?.length ?? 0;
  const latin = prose.match(/\p{Script=Latin}/gu)?.length ?? 0;
  return { letters, latin };
}

/** Text filters shared by math and code statements. */
export function textFilter(problem: string, opts: TextFilterOptions): FilterVerdict {
  if (problem.trim().length < opts.minChars) return { reason: 'too_short', detail: `${problem.trim().length} chars < ${opts.minChars}` };
  const { letters, latin } = latinShare(problem);
  if (letters > 0 && latin / letters < 0.8) return { reason: 'non_english', detail: `${Math.round((100 * (letters - latin)) / letters)}% of letters are not Latin` };
  const prose = problem.replace(/\$[^$]*\$/g, ' ').replace(/\\[a-zA-Z]+/g, ' ');
  const w = prose.toLowerCase().match(/\p{L}+/gu) ?? [];
  if (w.length >= 8 && !w.some((x) => ENGLISH.has(x))) return { reason: 'non_english', detail: 'no common English words' };
  if (FIGURE.test(problem)) return { reason: 'figure', detail: 'refers to a figure or diagram' };
  return undefined;
}

/** Does the verifier read this answer as maths (not free text)? */
export function answerParse(answer: string): { ok: true; value: Answer } | { ok: false; why: string } {
  const n = normalizeAnswer(answer);
  if (n === '') return { ok: false, why: 'empty answer' };
  let a: Answer;
  try {
    a = parseAnswer(n);
  } catch (err) {
    return { ok: false, why: err instanceof Error ? err.message : String(err) };
  }
  if (hasText(a)) return { ok: false, why: 'free text, not a mathematical answer' };
  return { ok: true, value: a };
}

function hasText(a: Answer): boolean {
  switch (a.t) {
    case 'text':
      return true;
    case 'rel':
      return a.sides.some(hasText);
    case 'set':
    case 'tuple':
      return a.items.some(hasText);
    default:
      return false;
  }
}

export function mathFilter(row: MathRow, opts: MathFilterOptions): FilterVerdict {
  const p = row.problem;
  const qt = row.hints.questionType?.toLowerCase();
  if (qt === 'mcq' || qt === 'multiple-choice' || CHOICE_WORDS.test(p) || CHOICES.test(p) || /^\(?[A-E]\)?$/.test(row.answer.trim())) return { reason: 'multiple_choice', detail: 'answer choices in the problem or a choice letter as the answer' };
  if (TRUE_FALSE_Q.test(p) || TRUE_FALSE_A.test(row.answer.trim())) return { reason: 'true_false', detail: 'a true/false or yes/no question' };
  if (qt === 'proof' || PROOF.test(p)) return { reason: 'proof', detail: 'asks for a proof' };
  const part = MULTI_PART.find((re) => re.test(p));
  if (part) return { reason: 'multi_part', detail: 'has numbered or lettered sub-questions' };
  const t = textFilter(p, opts);
  if (t) return t;
  if (row.answer.trim() === '') return { reason: 'unparseable_answer', detail: 'no answer (no \\boxed{} in the solution)' };
  const parsed = answerParse(row.answer);
  if (!parsed.ok) return { reason: 'unparseable_answer', detail: `"${row.answer.slice(0, 40)}": ${parsed.why}` };
  if (normalizeAnswer(row.answer).length > opts.maxAnswerChars) return { reason: 'complex_answer', detail: `answer longer than ${opts.maxAnswerChars} chars` };
  return undefined;
}
