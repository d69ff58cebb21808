import { benchHost, summarize, type BenchReport } from '@acereason/protocol';
import { loadSymbolicBackend } from './compare/symbolic.js';
import { readSuite, runSuite } from './suite.js';

/**
 * `acereason bench verify-math --suite FILE.jsonl`: agreement, false positives and false negatives
 * of the checker against a file of `{response, answer, expected}` cases, with per-answer latency.
 * The symbolic backend is loaded first (as a pool worker does), so the figures are the pool's verdicts.
 */
export async function benchVerifyMathSuite(path: string): Promise<BenchReport> {
  const cases = readSuite(path);
  const t0 = performance.now();
  await loadSymbolicBackend();
  const loadMs = performance.now() - t0;
  // The first pass right after loading shows whether the backend's warm-up did its job (its
  // slowest answer should be like the measured pass's); the second pass is the one reported.
  const first = summarize(runSuite(cases).latencies_ms);
  const r = runSuite(cases);
  const l = summarize(r.latencies_ms);
  return {
    suite: 'verify-math-agreement',
    host: benchHost(),
    file: path,
    all: r.all,
    not_arguable: r.not_arguable,
    arguable: r.arguable,
    latency: { p50_ms: round(l.median, 4), p99_ms: round(l.p99, 3), max_ms: round(l.max, 3) },
    symbolic_backend: { load_and_warm_up_ms: round(loadMs, 1), first_pass_p99_ms: round(first.p99, 3), first_pass_max_ms: round(first.max, 3) },
    misses: r.misses,
    ratios: {
      // There is no baseline checker in this process: the ratio is agreement against the suite's labels.
      agreement_not_arguable: r.not_arguable.agreement,
    },
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
