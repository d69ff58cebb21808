/** JSON lines, read one way everywhere: rows with their 1-based line numbers, blank lines skipped. */
import { ValidationError } from './errors.js';

export interface JsonlRow {
  line: number;
  value: unknown;
}

export interface JsonlProblem {
  line: number;
  message: string;
}

/** Every row that parses, and every line that does not (with why). */
export function readJsonLines(text: string): { rows: JsonlRow[]; bad: JsonlProblem[] } {
  const rows: JsonlRow[] = [];
  const bad: JsonlProblem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = (lines[i] ?? '').trim();
    if (l === '') continue;
    try {
      rows.push({ line: i + 1, value: JSON.parse(l) as unknown });
    } catch (err) {
      bad.push({ line: i + 1, message: `not valid JSON (${err instanceof Error ? err.message : String(err)})` });
    }
  }
  return { rows, bad };
}

/** The rows of a JSONL file; the first line that is not JSON is a ValidationError naming `file:line`. */
export function parseJsonl(text: string, file: string): JsonlRow[] {
  const { rows, bad } = readJsonLines(text);
  const first = bad[0];
  if (first) throw new ValidationError(`${file}:${first.line}`, first.message);
  return rows;
}
