/**
 * The rows of `eval --data`: a row with "tests" is code, any other math, read as a run file's
 * dataset entry reads them. `decimalComma` is the run file's `datasets.NAME.decimal_comma` for
 * this one file: its math answers write decimals with a comma (`3,5` is 3.5), and the math
 * verifier reads answers and responses that way; like the run file, it refuses code rows.
 */
import { readFileSync } from 'node:fs';
import type { Domain } from '@acereason/protocol';
import type { Prompt } from '@acereason/learner';
import { UsageError } from '../command.js';

export async function readEvalData(file: string, o: { limit: number; decimalComma: boolean }): Promise<Prompt[]> {
  const learner = await import('@acereason/learner');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'Pass a JSON lines file: {"id","problem","answer"} (math) or {"id","problem","tests"} (code).');
  }
  let rows: ReturnType<typeof learner.parseJsonl>;
  try {
    rows = learner.parseJsonl(text, file).slice(0, o.limit);
  } catch (err) {
    throw new UsageError((err as Error).message, 'Each line must be one JSON object.');
  }
  const prompts: Prompt[] = [];
  for (const { line, value } of rows) {
    const domain: Domain = typeof value === 'object' && value !== null && 'tests' in value ? 'code' : 'math';
    if (domain === 'code' && o.decimalComma) {
      throw new UsageError(`${file}:${line}: --decimal-comma only applies to math rows, and this row has "tests" (code)`, 'Leave out --decimal-comma, or evaluate the math rows from a file of their own.');
    }
    try {
      prompts.push(learner.parsePromptRow(value, domain, { file, line }, { decimalComma: o.decimalComma }));
    } catch (err) {
      throw new UsageError((err as Error).message, 'Each line needs "id", "problem" and "answer" (math) or "tests" (code).');
    }
  }
  if (prompts.length === 0) throw new UsageError(`${file} has no rows`, 'Pass a JSON lines file with at least one problem.');
  return prompts;
}
