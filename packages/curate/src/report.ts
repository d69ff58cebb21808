/** The curation report: counts in, out and removed by each step, every removal, every unreadable row. */
import type { CurateDomain, Removal, RowError } from './types.js';

export interface StepCount {
  step: string;
  in: number;
  out: number;
  removed: number;
  /** Removals by reason. */
  reasons: Record<string, number>;
  /** The settings the step ran with (for near-duplicate detection: its similarity threshold). */
  settings?: Record<string, number | string>;
}

export interface CurateReport {
  domain: CurateDomain;
  input: string;
  output: string;
  /** Non-empty records and lines seen in the input. */
  rowsIn: number;
  rowsOut: number;
  steps: StepCount[];
  removed: Removal[];
  errors: RowError[];
  benchmarks: { file: string; items: number; errors: RowError[] }[];
  /** Per-prompt pass rate, when the difficulty step ran. */
  passRates?: Record<string, number>;
}

export function stepCount(step: string, inCount: number, removed: readonly Removal[]): StepCount {
  const reasons: Record<string, number> = {};
  for (const r of removed) reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
  return { step, in: inCount, out: inCount - removed.length, removed: removed.length, reasons };
}

/** A fixed-width table for people. */
export function formatReport(r: CurateReport): string {
  const lines = [`curate ${r.domain}: ${r.input} -> ${r.output}`, `rows in ${r.rowsIn}, out ${r.rowsOut}`, ''];
  lines.push(`${'step'.padEnd(16)} ${'in'.padStart(7)} ${'out'.padStart(7)} ${'removed'.padStart(8)}  reasons`);
  for (const s of r.steps) {
    const reasons = Object.entries(s.reasons).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push(`${s.step.padEnd(16)} ${String(s.in).padStart(7)} ${String(s.out).padStart(7)} ${String(s.removed).padStart(8)}  ${reasons}`);
    if (s.settings !== undefined) lines.push(`${''.padEnd(16)} settings: ${Object.entries(s.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  if (r.errors.length > 0) {
    lines.push('', `unreadable rows (${r.errors.length}):`);
    for (const e of r.errors.slice(0, 50)) lines.push(`  line ${e.line}: ${e.message}`);
    if (r.errors.length > 50) lines.push(`  ... ${r.errors.length - 50} more in the JSON report`);
  }
  const contaminated = r.removed.filter((x) => x.step === 'decontaminate');
  if (contaminated.length > 0) {
    lines.push('', `benchmark overlaps (${contaminated.length}):`);
    for (const x of contaminated.slice(0, 50)) lines.push(`  line ${x.line} "${x.id}" matched ${x.matched ?? '?'}`);
  }
  return lines.join('\n') + '\n';
}
