/**
 * Two-sided benchmarks measured fairly: the sides run alternately (ours, baseline, ours,
 * baseline, ...) for a number of rounds, so load from other jobs on a shared machine hits both
 * sides alike, and each round gives its own ratio. A report carries min / median / max per side
 * and the median of the per-round ratios with their range: one noisy round moves a minimum or a
 * maximum, not the headline figure.
 */
import { ValidationError } from './errors.js';

/** Whether a bigger figure is better (throughput) or a smaller one (latency, seconds). */
export type Better = 'higher' | 'lower';

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface PairedFigure {
  better: Better;
  ours: Spread;
  baseline: Spread;
  /** Per-round ratio, oriented so that above 1 = we are better; its median is the headline. */
  ratio: Spread;
  /** Each round's raw figures, in order: [ours, baseline]. */
  rounds: [number, number][];
}

export interface PairedReport<K extends string> {
  rounds: number;
  order: 'alternating: ours, baseline, ours, baseline, ...' | 'alternating per figure: ours, baseline, next figure, ...';
  figures: Record<K, PairedFigure>;
  /** figure name -> median per-round ratio (the `ratios` a BenchReport carries). */
  ratios: Record<K, number>;
}

/** The smallest number of rounds a two-sided suite runs (quick runs may use fewer). */
export const MIN_ROUNDS = 5;


function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** min / median / max of a sample (the input is not modified). */
export function spread(values: readonly number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  return { min: s[0] ?? NaN, median: median(s), max: s[s.length - 1] ?? NaN };
}

/** The ratio of one round, oriented so that above 1 = ours is better. */
export function orientedRatio(ours: number, baseline: number, better: Better): number {
  return better === 'higher' ? ours / baseline : baseline / ours;
}

/** Builds the per-figure statistics from rounds already measured (each round: ours, baseline). */
export function pairFigures<K extends string>(better: Record<K, Better>, rounds: readonly { ours: Record<K, number>; baseline: Record<K, number> }[], order: PairedReport<K>['order'] = 'alternating: ours, baseline, ours, baseline, ...'): PairedReport<K> {
  const figures = {} as Record<K, PairedFigure>;
  const ratios = {} as Record<K, number>;
  for (const k of Object.keys(better) as K[]) {
    const pairs: [number, number][] = rounds.map((r, i) => {
      const o = r.ours[k];
      const b = r.baseline[k];
      if (o === undefined || b === undefined) throw new ValidationError(`rounds[${i}].${o === undefined ? 'ours' : 'baseline'}.${k}`, 'missing: both sides must report every figure');
      if (!Number.isFinite(o) || !Number.isFinite(b) || o <= 0 || b <= 0) throw new ValidationError(`rounds[${i}].${k}`, `expected a positive number on both sides, got ours ${o}, baseline ${b}`);
      return [o, b];
    });
    const dir = better[k];
    const ratio = spread(pairs.map(([o, b]) => orientedRatio(o, b, dir)));
    figures[k] = { better: dir, ours: spread(pairs.map((p) => p[0])), baseline: spread(pairs.map((p) => p[1])), ratio, rounds: pairs };
    ratios[k] = ratio.median;
  }
  return { rounds: rounds.length, order, figures, ratios };
}

export interface AlternateOptions<K extends string> {
  rounds: number;
  /** Which way each figure is better; also the list of figures both sides must report. */
  better: Record<K, Better>;
  /** One measurement of our side: every figure named in `better`. */
  ours: (round: number) => Promise<Record<K, number>>;
  /** One measurement of the baseline, at the same settings (threads, sizes). */
  baseline: (round: number) => Promise<Record<K, number>>;
}

/**
 * Runs the two sides alternately for `rounds` rounds (ours first in every round) and pairs
 * their figures. Warm-up is the caller's business: every round counts.
 */
export async function alternate<K extends string>(opts: AlternateOptions<K>): Promise<PairedReport<K>> {
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new ValidationError('rounds', `expected a positive integer, got ${opts.rounds}`);
  const rounds: { ours: Record<K, number>; baseline: Record<K, number> }[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const ours = await opts.ours(r);
    const baseline = await opts.baseline(r);
    rounds.push({ ours, baseline });
  }
  return pairFigures(opts.better, rounds);
}

export interface AlternateEachOptions<K extends string> {
  rounds: number;
  /** Which way each figure is better; its key order is the order figures are measured in. */
  better: Record<K, Better>;
  /** One measurement of one figure on our side. */
  ours: (figure: K, round: number) => Promise<number>;
  /** One measurement of the same figure on the baseline, at the same settings. */
  baseline: (figure: K, round: number) => Promise<number>;
}

/**
 * As `alternate`, but the sides take turns figure by figure within each round (ours then the
 * baseline on figure 1, then on figure 2, ...): the two measurements of a pair are seconds
 * apart rather than a whole round apart, so a change of machine load between them is rarer.
 */
export async function alternateEach<K extends string>(opts: AlternateEachOptions<K>): Promise<PairedReport<K>> {
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new ValidationError('rounds', `expected a positive integer, got ${opts.rounds}`);
  const keys = Object.keys(opts.better) as K[];
  const rounds: { ours: Record<K, number>; baseline: Record<K, number> }[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const ours = {} as Record<K, number>;
    const baseline = {} as Record<K, number>;
    for (const k of keys) {
      ours[k] = await opts.ours(k, r);
      baseline[k] = await opts.baseline(k, r);
    }
    rounds.push({ ours, baseline });
  }
  return pairFigures(opts.better, rounds, 'alternating per figure: ours, baseline, next figure, ...');
}
