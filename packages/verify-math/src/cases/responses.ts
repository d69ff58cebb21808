import { resp as r, type Case } from './case.js';

const T = '<think>\nLet me work through this carefully.\n</think>\n';

/** Responses with several boxes: only the last complete box after </think> is the answer. */
export const severalBoxes: Case[] = [
  r(`${T}Step 1 gives \\boxed{3}. Step 2 gives \\boxed{9}.`, '9', 'correct', '9', 'the last box is the final answer'),
  r(`${T}Step 1 gives \\boxed{3}. Step 2 gives \\boxed{9}.`, '3', 'wrong', '9', 'an intermediate box is not the answer'),
  r(`${T}\\boxed{x=1} and \\boxed{x=2}`, '1, 2', 'correct', 'x=2', 'several boxes against a two-part gold are compared as the set of their parts'),
  r(`${T}\\boxed{1}, \\boxed{2}, \\boxed{3}`, '\\{1,2,3\\}', 'correct', '3', 'one box per element of a set'),
  r(`${T}\\boxed{1}, \\boxed{2}, \\boxed{3}, \\boxed{4}`, '\\{1,2,3\\}', 'wrong', '4', 'boxing an extra candidate adds an element'),
  r(`${T}\\boxed{1}, \\boxed{2}`, '\\{1,2,3\\}', 'wrong', '2', 'boxes for part of a multi-part answer'),
  r(`${T}\\boxed{1} then \\boxed{2}`, '(1, 2)', 'wrong', '2', 'boxes are not combined against an ordered pair: the last box is not a pair'),
  r(`${T}\\boxed{1, 2}`, '1, 2', 'correct', '1, 2', 'a list belongs in one box'),
  r(`<think>\\boxed{5}</think>${'\\boxed{6}'}`, '6', 'correct', '6', 'a box in the reasoning is ignored, the final one counts'),
  r(`${T}\\fbox{7} then \\boxed{8}`, '8', 'correct', '8', 'boxed after fbox: the last of either kind'),
  r(`${T}\\boxed{8} then \\fbox{7}`, '7', 'correct', '7', 'fbox after boxed: the last of either kind'),
  r(`${T}\\boxed{2}\\boxed{}`, '2', 'correct', '2', 'an empty last box is skipped'),
  r(`${T}${'\\boxed{1} '.repeat(1000)}\\boxed{2}`, '2', 'correct', '2', 'a thousand boxes: still the last'),
  r(`${T}${'\\boxed{1} '.repeat(1000)}\\boxed{2}`, '1', 'wrong', '2', 'repeating a guess many times does not make it the answer'),
  r(`${T}The options were \\boxed{A} and \\boxed{B}; the answer is \\boxed{B}.`, 'B', 'correct', 'B', 'choice letters in several boxes'),
  r(`${T}\\boxed{\\boxed{4}}`, '4', 'correct', '4', 'a box inside a box: the inner one is the last to start'),
];

/** Nested braces at any depth inside the box. */
export const nestedBraces: Case[] = [
  r(`${T}\\boxed{\\frac{\\frac{1}{2}}{\\frac{3}{4}}}`, '\\frac23', 'correct', '\\frac{\\frac{1}{2}}{\\frac{3}{4}}', 'a fraction of fractions'),
  r(`${T}\\boxed{\\sqrt{\\frac{\\sqrt{16}}{4}}}`, '1', 'correct', '\\sqrt{\\frac{\\sqrt{16}}{4}}', 'three levels'),
  r(`${T}\\boxed{{{{{{{{{{{10}}}}}}}}}}}`, '10', 'correct', '{{{{{{{{{{10}}}}}}}}}}', 'ten redundant groups'),
  r(`${T}\\boxed{\\left\\{\\frac{1}{2}, \\frac{3}{4}\\right\\}}`, '\\{0.5, 0.75\\}', 'correct', '\\left\\{\\frac{1}{2}, \\frac{3}{4}\\right\\}', 'a set of fractions with sized escaped braces'),
  r(`${T}\\boxed{\\text{\\textbf{(C)}}}`, 'C', 'correct', '\\text{\\textbf{(C)}}', 'nested text commands'),
  r(`${T}\\boxed{2^{2^{2}}}`, '16', 'correct', '2^{2^{2}}', 'nested exponents'),
  r(`${T}\\boxed{\\frac{1}{2}} and {extra}`, '1/2', 'correct', '\\frac{1}{2}', 'braces after the box do not matter'),
  r(`${T}\\boxed{a\\}b}`, 'a\\}b', 'correct', 'a\\}b', 'an escaped closing brace inside the box is content'),
  r(`${T}\\boxed{\\begin{pmatrix}{1}&{2}\\\\{3}&{4}\\end{pmatrix}}`, '\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}', 'correct', '\\begin{pmatrix}{1}&{2}\\\\{3}&{4}\\end{pmatrix}', 'a matrix with braced entries'),
  r(`${T}\\boxed{${'{'.repeat(100)}3${'}'.repeat(100)}}`, '3', 'correct', `${'{'.repeat(100)}3${'}'.repeat(100)}`, 'a hundred groups are within the parser depth'),
];

/** Truncated responses and answers left in the reasoning without a box. */
export const truncatedAndHidden: Case[] = [
  r('<think>\nWe compute 6 * 7 = 42. So the answer is 42.\n</think>\nThe answer is 42.', '42', 'no_answer', null, 'the right number, never boxed'),
  r('<think>\nWe compute 6 * 7 = 42.\n</think>\n**42**', '42', 'no_answer', null, 'bold is not a box'),
  r('<think>\nWe compute 6 * 7 = 42.\n</think>\n$42$', '42', 'no_answer', null, 'math mode is not a box'),
  r('<think>\nthe answer should be \\boxed{42}\n</think>\nI am not sure.', '42', 'no_answer', null, 'boxed only inside the reasoning'),
  r('<think>\nLet me compute 6 * 7 = 4', '42', 'no_answer', null, 'cut off mid-reasoning'),
  r('<think>\nDone.\n</think>\nTherefore the answer is \\boxed{4', '42', 'no_answer', null, 'cut off inside the box'),
  r('<think>\nDone.\n</think>\nTherefore the answer is \\boxed{\\frac{42}{', '42', 'no_answer', null, 'cut off inside a nested group of the box'),
  r('<think>\nDone.\n</think>\nTherefore the answer is \\boxed', '42', 'no_answer', null, 'cut off right after \\boxed'),
  r('<think>\nDone.\n</think>\n\\boxed{42} and then I want to double-check by', '42', 'correct', '42', 'cut off after a complete box'),
  r('<think>\nDone.\n</think>\nThe final answer is 42', '42', 'no_answer', null, 'a fallback phrase is ignored for rewards'),
  r('<think>\nDone.\n</think>\nThe final answer is 42', '42', 'correct', '42', 'the same phrase with fallbacks enabled', true),
  r('<think>\nI think it is 41, or maybe 42\n</think>\n', '42', 'no_answer', null, 'an empty final section'),
];
