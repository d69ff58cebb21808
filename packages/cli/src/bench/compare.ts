/**
 * `acereason bench compare A.json B.json`: two runs of the same suite side by side, every ratio of
 * each and how far apart they are, so "do two runs agree?" is one command rather than a diff of
 * two JSON objects by eye.
 */
import { readFileSync } from 'node:fs';
import { ValidationError } from '@acereason/protocol';

export interface RatioRange { min: number; max: number }

export interface ComparedRatio {
  name: string;
  a?: number;
  b?: number;
  /** |a - b| / min(a, b): 0.3 = the larger is 30% above the smaller. Undefined when one run lacks it. */
  relDiff?: number;
  aRange?: RatioRange;
  bRange?: RatioRange;
}

export interface Comparison {
  suite: string;
  tolerance: number;
  ratios: ComparedRatio[];
  /** Ratios beyond the tolerance, or present in one run only. */
  disagree: string[];
}

interface RunFile { suite: string; ratios: Record<string, number>; ratio_spread?: Record<string, RatioRange> }

/** Reads one `bench <suite> --json` output (the JSON object; other lines, e.g. logs, are skipped). */
export function readBenchJson(path: string): RunFile {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n').filter((l) => l.trim().startsWith('{'));
  for (const candidate of [text, ...lines.reverse()]) {
    let v: unknown;
    try {
      v = JSON.parse(candidate);
    } catch {
      continue;
    }
    if (typeof v === 'object' && v !== null && typeof (v as RunFile).suite === 'string' && typeof (v as RunFile).ratios === 'object') return v as RunFile;
  }
  throw new ValidationError(path, 'not the JSON of `acereason bench <suite> --json` (no object with `suite` and `ratios`)');
}

export function compareRuns(a: RunFile, b: RunFile, tolerance: number): Comparison {
  if (a.suite !== b.suite) throw new ValidationError('suite', `the runs are of different suites: ${a.suite} and ${b.suite}`);
  const names = [...new Set([...Object.keys(a.ratios), ...Object.keys(b.ratios)])];
  const ratios: ComparedRatio[] = [];
  const disagree: string[] = [];
  for (const name of names) {
    const x = a.ratios[name];
    const y = b.ratios[name];
    const row: ComparedRatio = { name };
    if (x !== undefined) row.a = x;
    if (y !== undefined) row.b = y;
    const ar = a.ratio_spread?.[name];
    const br = b.ratio_spread?.[name];
    if (ar !== undefined) row.aRange = { min: ar.min, max: ar.max };
    if (br !== undefined) row.bRange = { min: br.min, max: br.max };
    if (x !== undefined && y !== undefined && x > 0 && y > 0) row.relDiff = Math.abs(x - y) / Math.min(x, y);
    if (row.relDiff === undefined || row.relDiff > tolerance) disagree.push(name);
    ratios.push(row);
  }
  return { suite: a.suite, tolerance, ratios, disagree };
}

const num = (x: number | undefined): string => (x === undefined ? '-' : x.toPrecision(3));
const range = (r: RatioRange | undefined): string => (r === undefined ? '' : `(${num(r.min)}-${num(r.max)})`);

export function formatComparison(c: Comparison): string {
  const lines = [`suite ${c.suite}: ratios of run A and run B, relative difference |A - B| / min(A, B), tolerance ${Math.round(c.tolerance * 100)}%`];
  const w = Math.max(12, ...c.ratios.map((r) => r.name.length));
  lines.push(`  ${'ratio'.padEnd(w)}  ${'A'.padStart(7)} ${''.padEnd(15)} ${'B'.padStart(7)} ${''.padEnd(15)} diff`);
  for (const r of c.ratios) {
    const diff = r.relDiff === undefined ? 'only in one run' : `${(r.relDiff * 100).toFixed(1)}%${r.relDiff > c.tolerance ? '  DISAGREE' : ''}`;
    lines.push(`  ${r.name.padEnd(w)}  ${num(r.a).padStart(7)} ${range(r.aRange).padEnd(15)} ${num(r.b).padStart(7)} ${range(r.bRange).padEnd(15)} ${diff}`);
  }
  lines.push(c.disagree.length === 0 ? `every ratio within ${Math.round(c.tolerance * 100)}%` : `${c.disagree.length} of ${c.ratios.length} ratios beyond ${Math.round(c.tolerance * 100)}% or in one run only: ${c.disagree.join(', ')}`);
  return lines.join('\n') + '\n';
}
