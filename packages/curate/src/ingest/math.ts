/**
 * Math rows: problem/answer (AceReason-Math, DeepScaleR, our own schema), problem/solution with a
 * boxed answer (NuminaMath), question/answer with a "#### 42" tail (GSM8K).
 */
import { extractAnswer } from '@acereason/verify-math';
import type { MathRow } from '../types.js';
import { RowFormatError, asObject, firstString, rowId, type Obj } from './read.js';

const PROBLEM_KEYS = ['problem', 'question', 'prompt', 'Problem', 'Question'] as const;
const ID_KEYS = ['id', 'problem_id', 'question_id', 'uid', 'unique_id'] as const;

function userMessage(o: Obj): string | undefined {
  if (!Array.isArray(o.messages)) return undefined;
  for (const m of o.messages as unknown[]) {
    if (typeof m === 'object' && m !== null && (m as Obj).role === 'user' && typeof (m as Obj).content === 'string') return (m as Obj).content as string;
  }
  return undefined;
}

function answerOf(o: Obj): string | undefined {
  const a = o.answer ?? o.final_answer ?? o.Answer;
  if (typeof a === 'number' && Number.isFinite(a)) return String(a);
  if (Array.isArray(a) && a.length === 1 && (typeof a[0] === 'string' || typeof a[0] === 'number')) return String(a[0]);
  if (typeof a === 'string' && a.trim() !== '') {
    const hashes = a.lastIndexOf('####');
    if (hashes >= 0) return a.slice(hashes + 4).trim().replace(/,(?=\d{3}\b)/g, '');
    // NuminaMath-1.5 marks missing answers with these words.
    if (a.trim() === 'notfound') return '';
    return a.trim();
  }
  const solution = firstString(o, ['solution', 'reference_solution', 'response']);
  if (solution === undefined) return undefined;
  return extractAnswer(solution).answer ?? '';
}

export function normalizeMathRow(value: unknown, line: number, fallbackId: string): MathRow {
  const o = asObject(value);
  const problem = firstString(o, PROBLEM_KEYS) ?? userMessage(o);
  if (problem === undefined) throw new RowFormatError('missing "problem" (or "question"/"prompt") text');
  const answer = answerOf(o);
  if (answer === undefined) throw new RowFormatError('missing "answer" (or a "solution" with \\boxed{})');
  const row: MathRow = { domain: 'math', id: rowId(o, ID_KEYS, fallbackId), problem: problem.trim(), answer, line, hints: {} };
  const qt = o.question_type ?? o.problem_type;
  if (typeof qt === 'string') row.hints.questionType = qt;
  if (answer === 'proof') row.hints.questionType = 'proof';
  return row;
}
