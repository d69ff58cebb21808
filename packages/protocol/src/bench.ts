import { cpus, platform, arch, loadavg } from 'node:os';

/**
 * The shape every `acereason bench <suite> --json` prints: raw figures (medians, p99) plus
 * `ratios`, each ours / baseline measured in the same run (above 1 means we are better).
 */
export interface BenchHost {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  /** Load average (1, 5, 15 min) when the run started: on a shared machine, how busy it was. */
  load: number[];
}

export interface BenchReport {
  suite: string;
  host: BenchHost;
  /** name -> ours / baseline in the same run; above 1 = we are better. */
  ratios: Record<string, number>;
  [figure: string]: unknown;
}

export interface BenchOptions {
  /** A shortened run (fewer iterations), for smoke tests. */
  quick?: boolean;
}

/** Median and tail of a sample of numbers (the input is not modified). */
export function summarize(values: readonly number[]): { n: number; median: number; p99: number; min: number; max: number; mean: number } {
  if (values.length === 0) return { n: 0, median: NaN, p99: NaN, min: NaN, max: NaN, mean: NaN };
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, median: quantileMid(s), p99: q(0.99), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, mean };
}

function quantileMid(sorted: readonly number[]): number {
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  if (n % 2 === 1) return sorted[mid] ?? NaN;
  return ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** A figure as a report gives it: `digits` significant digits. */
export function significant(x: number, digits = 4): number {
  return Number(x.toPrecision(digits));
}

/** A figure as a report gives it: rounded to `places` decimals. */
export function toPlaces(x: number, places = 3): number {
  const f = 10 ** places;
  return Math.round(x * f) / f;
}

/** Describes the machine a benchmark ran on, for the report. */
export function benchHost(): BenchHost {
  const c = cpus();
  return { cpus: c.length, cpuModel: c[0]?.model ?? 'unknown', node: process.version, platform: `${platform()}-${arch()}`, load: loadavg().map((x) => Number(x.toFixed(2))) };
}
