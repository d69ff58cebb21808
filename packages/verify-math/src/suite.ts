import { readFileSync } from 'node:fs';
import { parseJsonl, ValidationError } from '@acereason/protocol';
import type { CheckOptions, MathVerdict } from './types.js';
import { checkAnswer } from './verify.js';

/** One line of an agreement suite: a response, its gold answer and the verdict a careful grader gives. */
export interface SuiteCase {
  id: string;
  response: string;
  answer: string;
  expected: boolean;
  /** Read the answer without a box too (how external models are evaluated). Default false. */
  fallbacks: boolean;
  /** The dataset writes decimals with a comma (`1,5` = 1.5). Default false. */
  decimalComma: boolean;
  /** Why the expectation can be argued; such cases are reported apart. */
  arguable: string | null;
  source: string | null;
}

/** Reads a JSONL suite of `{response, answer, expected}` lines; a bad line is an error naming file and line. */
export function readSuite(path: string): SuiteCase[] {
  const text = readFileSync(path, 'utf8');
  const out: SuiteCase[] = [];
  for (const { line, value: v } of parseJsonl(text, path)) {
    const at = `${path}:${line}`;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError(at, 'a line must be a JSON object');
    const o = v as Record<string, unknown>;
    const str = (k: string): string => {
      const x = o[k];
      if (typeof x !== 'string') throw new ValidationError(`${at}.${k}`, 'must be a string');
      return x;
    };
    const optBool = (k: string): boolean => {
      const x = o[k];
      if (x === undefined) return false;
      if (typeof x !== 'boolean') throw new ValidationError(`${at}.${k}`, 'must be true or false');
      return x;
    };
    const optStr = (k: string): string | null => (o[k] === undefined ? null : str(k));
    if (typeof o.expected !== 'boolean') throw new ValidationError(`${at}.expected`, 'must be true or false');
    out.push({
      id: optStr('id') ?? `line ${line}`,
      response: str('response'),
      answer: str('answer'),
      expected: o.expected,
      fallbacks: optBool('fallbacks'),
      decimalComma: optBool('decimal_comma'),
      arguable: optStr('arguable'),
      source: optStr('source'),
    });
  }
  return out;
}

export interface SuiteMiss {
  id: string;
  expected: boolean;
  status: MathVerdict['status'];
  extracted: string | null;
  reason: string;
  arguable: boolean;
}

export interface SuiteTally {
  cases: number;
  agree: number;
  agreement: number;
  /** Accepted, but the expectation is wrong: the error that teaches a policy to cheat. */
  false_positives: number;
  /** Rejected, but the expectation is correct. */
  false_negatives: number;
}

export interface SuiteResult {
  all: SuiteTally;
  /** The cases whose expectation is not arguable: the figure the target is stated on. */
  not_arguable: SuiteTally;
  arguable: SuiteTally;
  misses: SuiteMiss[];
  latencies_ms: number[];
}

/** Runs every case in-process (the symbolic backend is used when it was loaded). */
export function runSuite(cases: readonly SuiteCase[], base: CheckOptions = {}): SuiteResult {
  const misses: SuiteMiss[] = [];
  const lat: number[] = [];
  const tallies = { all: tally(), not_arguable: tally(), arguable: tally() };
  for (const c of cases) {
    const opts: CheckOptions = { ...base, fallbacks: c.fallbacks, decimalComma: c.decimalComma };
    const t0 = performance.now();
    let v: MathVerdict;
    try {
      v = checkAnswer(c.response, c.answer, opts);
    } catch (e) {
      v = { status: 'error', correct: false, extracted: null, reason: e instanceof Error ? e.message : String(e) };
    }
    lat.push(performance.now() - t0);
    for (const t of [tallies.all, c.arguable === null ? tallies.not_arguable : tallies.arguable]) {
      t.cases++;
      if (v.correct === c.expected) t.agree++;
      else if (v.correct) t.false_positives++;
      else t.false_negatives++;
    }
    if (v.correct !== c.expected) misses.push({ id: c.id, expected: c.expected, status: v.status, extracted: v.extracted, reason: v.reason, arguable: c.arguable !== null });
  }
  for (const t of Object.values(tallies)) t.agreement = t.cases === 0 ? NaN : Math.round((t.agree / t.cases) * 10000) / 10000;
  return { ...tallies, misses, latencies_ms: lat };
}

function tally(): SuiteTally {
  return { cases: 0, agree: 0, agreement: 0, false_positives: 0, false_negatives: 0 };
}
