/** `curate`: ingest -> filters -> exact dedup -> near dedup -> decontamination -> reference check -> difficulty. */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { CodeVerifier } from '@acereason/verify-code';
import { normalizeCodeRow } from './ingest/code.js';
import { normalizeMathRow } from './ingest/math.js';
import { readRecords, RowFormatError } from './ingest/read.js';
import { stepCount, type CurateReport } from './report.js';
import { checkReferenceSolutions, codeFilter, DEFAULT_CODE_FILTERS, type CodeFilterOptions, type ReferenceCheckOptions } from './steps/code-filters.js';
import { decontaminate, NgramIndex, readBenchmark } from './steps/decontaminate.js';
import { dedupExact, dedupNear, dedupSettings, DEFAULT_DEDUP, type DedupOptions } from './steps/dedup.js';
import { scoreDifficulty, type DifficultyOptions, type PassRateSink, type ResponseSampler } from './steps/difficulty.js';
import { DEFAULT_MATH_FILTERS, mathFilter, type MathFilterOptions } from './steps/math-filters.js';
import type { CodeRow, CurateDomain, CurateRow, Removal, RowError } from './types.js';

export interface CurateOptions {
  domain: CurateDomain;
  input: string;
  output: string;
  benchmarks?: readonly string[];
  /** n of the n-gram overlap (default 9 for math, 14 for code). */
  ngram?: number;
  dedup?: Partial<DedupOptions>;
  mathFilters?: Partial<MathFilterOptions>;
  codeFilters?: Partial<CodeFilterOptions>;
  /** Sandbox for the reference-solution check and for scoring code samples; the check is skipped without one. */
  codeVerifier?: CodeVerifier;
  /** `false` skips the reference-solution check even with a sandbox. */
  referenceCheck?: Partial<ReferenceCheckOptions> | false;
  difficulty?: DifficultyOptions & { sampler: ResponseSampler; sink: PassRateSink };
}

export interface CurateResult {
  rows: CurateRow[];
  report: CurateReport;
}

export function ingest(text: string, domain: CurateDomain, source: string): { rows: CurateRow[]; errors: RowError[] } {
  const { records, errors } = readRecords(text);
  const prefix = basename(source, extname(source));
  const rows: CurateRow[] = [];
  const ids = new Set<string>();
  for (const { line, value } of records) {
    try {
      const row = domain === 'math' ? normalizeMathRow(value, line, `${prefix}-${line}`) : normalizeCodeRow(value, line, `${prefix}-${line}`);
      // The learner rejects repeated ids; two different problems under one id keep both, renamed.
      if (ids.has(row.id)) row.id = `${row.id}~L${line}`;
      ids.add(row.id);
      rows.push(row);
    } catch (err) {
      if (!(err instanceof RowFormatError)) throw err;
      errors.push({ line, message: err.message });
    }
  }
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors };
}

/** The row as the learner reads it. */
export function toOutputRow(r: CurateRow, passRate?: number): Record<string, unknown> {
  const extra = passRate === undefined ? {} : { pass_rate: passRate };
  if (r.domain === 'math') return { id: r.id, problem: r.problem, answer: r.answer, ...extra };
  return {
    id: r.id,
    problem: r.problem,
    tests: r.tests,
    ...(r.time_limit_s !== undefined ? { time_limit_s: r.time_limit_s } : {}),
    ...(r.memory_mb !== undefined ? { memory_mb: r.memory_mb } : {}),
    ...extra,
  };
}

export async function curate(opts: CurateOptions): Promise<CurateResult> {
  const text = readFileSync(opts.input, 'utf8');
  const { rows: ingested, errors } = ingest(text, opts.domain, opts.input);
  const rowsIn = ingested.length + errors.length;
  const steps: CurateReport['steps'] = [];
  const removed: Removal[] = [];
  steps.push({ step: 'ingest', in: rowsIn, out: ingested.length, removed: errors.length, reasons: errors.length > 0 ? { unreadable: errors.length } : {} });

  const apply = (step: string, input: CurateRow[], result: { kept: CurateRow[]; removed: Removal[] }): CurateRow[] => {
    steps.push(stepCount(step, input.length, result.removed));
    removed.push(...result.removed);
    return result.kept;
  };

  // Cheap filters first, so a broken first copy cannot knock out a good duplicate.
  const mathOpts = { ...DEFAULT_MATH_FILTERS, ...opts.mathFilters };
  const codeOpts = { ...DEFAULT_CODE_FILTERS, ...opts.codeFilters };
  const filtered: { kept: CurateRow[]; removed: Removal[] } = { kept: [], removed: [] };
  for (const r of ingested) {
    const v = r.domain === 'math' ? mathFilter(r, mathOpts) : codeFilter(r, codeOpts);
    if (v) filtered.removed.push({ id: r.id, line: r.line, step: 'filter', reason: v.reason, detail: v.detail });
    else filtered.kept.push(r);
  }
  let rows = apply('filter', ingested, filtered);
  rows = apply('dedup_exact', rows, dedupExact(rows));
  const dedupOpts = { ...DEFAULT_DEDUP, ...opts.dedup };
  rows = apply('dedup_near', rows, dedupNear(rows, dedupOpts));
  const nearStep = steps.at(-1);
  if (nearStep !== undefined) nearStep.settings = dedupSettings(dedupOpts);

  const benchmarks: CurateReport['benchmarks'] = [];
  if (opts.benchmarks !== undefined && opts.benchmarks.length > 0) {
    const index = new NgramIndex(opts.ngram ?? (opts.domain === 'math' ? 9 : 14));
    for (const file of opts.benchmarks) {
      const b = readBenchmark(readFileSync(file, 'utf8'), file);
      for (const item of b.items) index.add(item);
      benchmarks.push({ file, items: b.items.length, errors: b.errors });
    }
    rows = apply('decontaminate', rows, decontaminate(rows, index));
  }

  if (opts.domain === 'code' && opts.codeVerifier !== undefined && opts.referenceCheck !== false) {
    const checked = await checkReferenceSolutions(rows as CodeRow[], opts.codeVerifier, { requireSolution: false, maxSolutions: 2, ...opts.referenceCheck });
    rows = apply('reference_check', rows, checked);
  }

  let passRates: Map<string, number> | undefined;
  if (opts.difficulty !== undefined) {
    const d = opts.difficulty;
    const scored = await scoreDifficulty(rows, d.sampler, d.sink, d, opts.codeVerifier);
    passRates = scored.passRates;
    rows = apply('difficulty', rows, scored);
  }

  writeFileSync(opts.output, rows.map((r) => JSON.stringify(toOutputRow(r, passRates?.get(r.id)))).join('\n') + (rows.length > 0 ? '\n' : ''));
  const report: CurateReport = { domain: opts.domain, input: opts.input, output: opts.output, rowsIn, rowsOut: rows.length, steps, removed, errors, benchmarks };
  if (passRates !== undefined) report.passRates = Object.fromEntries(passRates);
  return { rows, report };
}
