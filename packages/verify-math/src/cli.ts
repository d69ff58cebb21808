import { createInterface } from 'node:readline';
import { MathVerifierPool } from './pool.js';
import type { MathVerdict } from './types.js';

export interface VerifyMathCliOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Where a summary line goes at the end (nothing when absent). */
  errors?: NodeJS.WritableStream;
  workers?: number;
  timeoutMs?: number;
  fallbacks?: boolean;
  /** The dataset writes decimals with a comma (see the answer grammar). */
  decimalComma?: boolean;
}

export interface VerifyMathCliSummary {
  lines: number;
  ok: number;
  bad: number;
}

interface InputLine {
  id: unknown;
  response: string;
  answer: string;
}

/**
 * `acereason verify math`: JSON lines `{"id", "response", "answer"}` in, one line out per input line,
 * in input order: `{"id", "correct", "status", "extracted", "reason"}`, or `{"line", "id"?, "error"}`
 * for a line that is not a valid request. Blank lines are skipped. A bad line never stops the run.
 */
export async function runVerifyMathCli(opts: VerifyMathCliOptions): Promise<VerifyMathCliSummary> {
  const pool = new MathVerifierPool({ workers: opts.workers, timeoutMs: opts.timeoutMs, fallbacks: opts.fallbacks, decimalComma: opts.decimalComma });
  const maxInFlight = 256;
  const pending: Promise<string>[] = [];
  let lines = 0;
  let ok = 0;
  let bad = 0;
  const write = async (s: string): Promise<void> => {
    if (!opts.output.write(`${s}\n`)) await new Promise<void>((r) => opts.output.once('drain', () => r()));
  };
  const flushOne = async (): Promise<void> => {
    const head = pending.shift();
    if (head !== undefined) await write(await head);
  };
  try {
    const rl = createInterface({ input: opts.input, crlfDelay: Infinity });
    for await (const text of rl) {
      lines++;
      if (text.trim() === '') continue;
      const parsed = parseLine(text, lines);
      if ('error' in parsed) {
        bad++;
        pending.push(Promise.resolve(JSON.stringify(parsed)));
      } else {
        ok++;
        const { id } = parsed;
        const lineNo = lines;
        pending.push(
          pool.verify(parsed).then(
            (v) => resultLine(id, v),
            (e: unknown) => JSON.stringify({ line: lineNo, id, error: e instanceof Error ? e.message : String(e) }),
          ),
        );
      }
      while (pending.length >= maxInFlight) await flushOne();
    }
    while (pending.length > 0) await flushOne();
  } finally {
    await pool.close();
  }
  opts.errors?.write(`verify math: ${lines} lines, ${ok} verified, ${bad} bad\n`);
  return { lines, ok, bad };
}

function resultLine(id: unknown, v: MathVerdict): string {
  return JSON.stringify({ id, correct: v.correct, status: v.status, extracted: v.extracted, reason: v.reason });
}

function parseLine(text: string, line: number): InputLine | { line: number; id?: unknown; error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { line, error: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { line, error: 'expected a JSON object' };
  const o = v as Record<string, unknown>;
  const id = o['id'];
  const withId = id === undefined ? {} : { id };
  if (typeof o['response'] !== 'string') return { line, ...withId, error: 'response: must be a string' };
  if (typeof o['answer'] !== 'string') return { line, ...withId, error: 'answer: must be a string' };
  return { id: id ?? null, response: o['response'], answer: o['answer'] };
}
