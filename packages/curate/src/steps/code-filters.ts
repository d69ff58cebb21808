/** Code filters: too few tests, special judges, and reference solutions that fail their own tests. */
import type { CodeVerifier } from '@acereason/verify-code';
import type { CodeRow, Removal } from '../types.js';
import { textFilter, type FilterVerdict, type TextFilterOptions } from './math-filters.js';

export interface CodeFilterOptions extends TextFilterOptions {
  /** Fewer tests than this and the problem goes (default 5). */
  minTests: number;
}

export const DEFAULT_CODE_FILTERS: CodeFilterOptions = { minChars: 20, minTests: 5 };

const SPECIAL_JUDGE = /\b(print|output|return) any (?:of them|one of them|valid|such|correct|possible)|\bany (?:of them|valid answer|correct answer) (?:is|will be) accepted|\bmultiple (?:possible |valid |correct )?(?:answers|solutions)[^.]*\b(?:any|accepted)|\binteractive (?:problem|task)|\bthis is an interactive\b|\bflush the output\b/i;

export function codeFilter(row: CodeRow, opts: CodeFilterOptions): FilterVerdict {
  const t = textFilter(row.problem, opts);
  if (t) return t;
  if (row.hints.specialJudge === true) return { reason: 'special_judge', detail: 'marked as needing a checker or interactive judge' };
  const m = SPECIAL_JUDGE.exec(row.problem);
  if (m) return { reason: 'special_judge', detail: `statement says "${m[0]}"` };
  if (row.tests.inputs.length < opts.minTests) return { reason: 'too_few_tests', detail: `${row.tests.inputs.length} tests < ${opts.minTests}` };
  return undefined;
}

export interface ReferenceCheckOptions {
  /** Rows without a reference solution are removed (default: kept unchecked). */
  requireSolution: boolean;
  /** Solutions tried per problem before it is declared broken (default 2). */
  maxSolutions: number;
}

/**
 * Runs each problem's reference solutions against its tests in the sandbox; a problem none of
 * whose solutions pass is a false-negative source (wrong tests, a checker we do not have) and goes.
 */
export async function checkReferenceSolutions(rows: readonly CodeRow[], verifier: CodeVerifier, opts: ReferenceCheckOptions): Promise<{ kept: CodeRow[]; removed: Removal[] }> {
  const verdicts = await Promise.all(rows.map(async (r): Promise<Removal | undefined> => {
    if (r.solutions.length === 0) return opts.requireSolution ? { id: r.id, line: r.line, step: 'reference_check', reason: 'no_reference_solution', detail: 'no Python reference solution' } : undefined;
    let last = '';
    for (const code of r.solutions.slice(0, opts.maxSolutions)) {
      const v = await verifier.verify({
        code,
        language: 'python',
        tests: { inputs: r.tests.inputs, outputs: r.tests.outputs, ...(r.tests.fn_name !== undefined ? { fnName: r.tests.fn_name } : {}) },
        ...(r.time_limit_s !== undefined ? { timeLimitS: r.time_limit_s } : {}),
        ...(r.memory_mb !== undefined ? { memoryMb: r.memory_mb } : {}),
      }).catch((err: unknown) => ({ status: 'invalid_tests', passed: false, reason: err instanceof Error ? err.message : String(err) }));
      if (v.passed) return undefined;
      last = `${v.status}: ${v.reason.slice(0, 120)}`;
    }
    return { id: r.id, line: r.line, step: 'reference_check', reason: 'reference_fails', detail: last };
  }));
  const kept: CodeRow[] = [];
  const removed: Removal[] = [];
  rows.forEach((r, i) => {
    const v = verdicts[i];
    if (v) removed.push(v);
    else kept.push(r);
  });
  return { kept, removed };
}
