/** Writes the demo's train and held-out eval splits as JSON lines in the learner's schema. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalText } from '../text.js';
import { generateDemoCode } from './code.js';
import { generateDemoMath, type DemoMathProblem } from './math.js';

export interface DemoSplitOptions {
  outDir: string;
  seed?: number;
  /**
   * Math problems per split (default 1000 train, 200 eval), spread over difficulties 1..maxDifficulty
   * (default 3: the demo model's reach) and interleaved, so any prefix of a split is a balanced mix.
   */
  mathTrain?: number;
  mathEval?: number;
  maxDifficulty?: number;
  codeTrain?: number;
  codeEval?: number;
}

export interface DemoSplitFiles {
  files: Record<'mathTrain' | 'mathEval' | 'codeTrain' | 'codeEval', { path: string; rows: number }>;
}

/** Demo math goes up to three operations by default: what the demo model can learn to do. */
export const DEMO_MAX_DIFFICULTY = 3;
const EVAL_SEED_OFFSET = 1_000_003;

/** Draws rounds of `gen` (each with its own seed) until `n` rows new to `taken`, or gives up after 50 rounds. */
function fill<T extends { problem: string }>(n: number, seed: number, taken: Set<string>, gen: (count: number, seed: number) => T[]): T[] {
  const out: T[] = [];
  for (let round = 0; round < 50 && out.length < n; round++) out.push(...unique(gen(n - out.length, seed + round * 7_777_777), taken));
  return out;
}

/** `n` problems over difficulties 1..maxDifficulty, interleaved (1, 2, 3, 1, 2, 3, ...). */
export function mathSplit(n: number, seed: number, maxDifficulty: number): DemoMathProblem[] {
  const byDifficulty: DemoMathProblem[][] = [];
  for (let d = 1; d <= maxDifficulty; d++) {
    const share = Math.floor(n / maxDifficulty) + (d <= n % maxDifficulty ? 1 : 0);
    byDifficulty.push(generateDemoMath({ n: share, seed, difficulty: d }));
  }
  const out: DemoMathProblem[] = [];
  for (let i = 0; out.length < n; i++) for (const rows of byDifficulty) if (i < rows.length) out.push(rows[i] as DemoMathProblem);
  return out;
}

/** Drops rows whose text is already in `taken` (or repeats within the split), and records the rest. */
function unique<T extends { problem: string }>(rows: readonly T[], taken: Set<string>): T[] {
  return rows.filter((r) => {
    const k = canonicalText(r.problem);
    if (taken.has(k)) return false;
    taken.add(k);
    return true;
  });
}

function writeJsonl(path: string, rows: readonly object[]): { path: string; rows: number } {
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { path, rows: rows.length };
}

/** Eval rows come from another seed, and no eval problem text is also in train (nor twice in a split). */
export function writeDemoSplits(opts: DemoSplitOptions): DemoSplitFiles {
  const seed = opts.seed ?? 1;
  const evalSeed = seed + EVAL_SEED_OFFSET;
  const maxD = opts.maxDifficulty ?? DEMO_MAX_DIFFICULTY;
  mkdirSync(opts.outDir, { recursive: true });
  const mathSeen = new Set<string>();
  const mathTrain = fill(opts.mathTrain ?? 1000, seed, mathSeen, (n, s) => mathSplit(n, s, maxD));
  const mathEval = fill(opts.mathEval ?? 200, evalSeed, mathSeen, (n, s) => mathSplit(n, s, maxD));
  const codeSeen = new Set<string>();
  const codeTrain = fill(opts.codeTrain ?? 200, seed, codeSeen, (n, s) => generateDemoCode({ n, seed: s }));
  const codeEval = fill(opts.codeEval ?? 50, evalSeed, codeSeen, (n, s) => generateDemoCode({ n, seed: s }));
  const code = (r: (typeof codeTrain)[number]): object => ({ id: r.id, problem: r.problem, tests: r.tests, solution: r.solution });
  return {
    files: {
      mathTrain: writeJsonl(join(opts.outDir, 'math-train.jsonl'), mathTrain),
      mathEval: writeJsonl(join(opts.outDir, 'math-eval.jsonl'), mathEval),
      codeTrain: writeJsonl(join(opts.outDir, 'code-train.jsonl'), codeTrain.map(code)),
      codeEval: writeJsonl(join(opts.outDir, 'code-eval.jsonl'), codeEval.map(code)),
    },
  };
}
