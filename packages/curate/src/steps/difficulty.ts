/**
 * Difficulty: sample the current policy k times per prompt, score the samples with the reward
 * functions, record the pass rate, and keep prompts whose rate lies in [minPass, maxPass].
 */
import { checkAnswer } from '@acereason/verify-math';
import type { CodeVerifier } from '@acereason/verify-code';
import type { CurateRow, Removal } from '../types.js';

/** Where pass rates go. The learner's durable table implements this; InMemoryPassRateSink is for tools and tests. */
export interface PassRateSink {
  record(promptId: string, attempts: number, passes: number): Promise<void> | void;
}

export class InMemoryPassRateSink implements PassRateSink {
  readonly rates = new Map<string, { attempts: number; passes: number }>();

  record(promptId: string, attempts: number, passes: number): void {
    const prev = this.rates.get(promptId) ?? { attempts: 0, passes: 0 };
    this.rates.set(promptId, { attempts: prev.attempts + attempts, passes: prev.passes + passes });
  }

  passRate(promptId: string): number | undefined {
    const r = this.rates.get(promptId);
    return r === undefined || r.attempts === 0 ? undefined : r.passes / r.attempts;
  }
}

/** Draws k responses to a problem from the policy (embedded engine or a cluster). */
export interface ResponseSampler {
  sample(rows: readonly CurateRow[], k: number): Promise<string[][]>;
}

export interface DifficultyOptions {
  k: number;
  minPass: number;
  maxPass: number;
}

async function passes(row: CurateRow, responses: readonly string[], code: CodeVerifier | undefined): Promise<number> {
  let n = 0;
  for (const response of responses) {
    if (row.domain === 'math') {
      if (checkAnswer(response, row.answer).status === 'correct') n++;
    } else if (code !== undefined) {
      const v = await code.verify({ response, tests: { inputs: row.tests.inputs, outputs: row.tests.outputs, ...(row.tests.fn_name !== undefined ? { fnName: row.tests.fn_name } : {}) } });
      if (v.passed) n++;
    }
  }
  return n;
}

export async function scoreDifficulty(
  rows: readonly CurateRow[],
  sampler: ResponseSampler,
  sink: PassRateSink,
  opts: DifficultyOptions,
  code?: CodeVerifier,
): Promise<{ kept: CurateRow[]; removed: Removal[]; passRates: Map<string, number> }> {
  const samples = await sampler.sample(rows, opts.k);
  const kept: CurateRow[] = [];
  const removed: Removal[] = [];
  const passRates = new Map<string, number>();
  for (const [i, row] of rows.entries()) {
    const responses = samples[i] ?? [];
    const p = await passes(row, responses, code);
    await sink.record(row.id, responses.length, p);
    const rate = responses.length === 0 ? 0 : p / responses.length;
    passRates.set(row.id, rate);
    if (rate < opts.minPass || rate > opts.maxPass) removed.push({ id: row.id, line: row.line, step: 'difficulty', reason: rate < opts.minPass ? 'too_hard' : 'too_easy', detail: `pass rate ${p}/${responses.length} outside [${opts.minPass}, ${opts.maxPass}]` });
    else kept.push(row);
  }
  return { kept, removed, passRates };
}
