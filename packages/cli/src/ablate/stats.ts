/**
 * The ablation's test of "reproduced": the paper's direction, with the effect beyond the seeds'
 * spread. For two arms with per-seed metrics a and b, effect = mean(a) - mean(b) and noise = the
 * standard error of that difference (Welch: sqrt(var(a)/n_a + var(b)/n_b), sample variances);
 * reproduced when effect has the paper's sign and |effect| > 2 x noise. With a single seed per
 * arm there is no spread to compare against: noise is null and nothing counts as reproduced.
 */

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (n - 1); 0 for one value. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** The standard error of mean(a) - mean(b) (Welch); null when either arm has fewer than 2 seeds. */
export function stdErrDiff(a: readonly number[], b: readonly number[]): number | null {
  if (a.length < 2 || b.length < 2) return null;
  return Math.sqrt(std(a) ** 2 / a.length + std(b) ** 2 / b.length);
}

/** The standard error of the mean paired difference a_i - b_i (same seed, same run); null below 2 pairs. */
export function stdErrPaired(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length) throw new Error(`paired arms need the same seeds (${a.length} vs ${b.length})`);
  if (a.length < 2) return null;
  const d = a.map((x, i) => x - (b[i] as number));
  return std(d) / Math.sqrt(d.length);
}

/** How many standard errors an effect must clear. */
export const SIGMAS = 2;

export type Expect =
  /** The first arm beats the second. */
  | { kind: 'greater' }
  /** The two arms stay within this margin of each other (both ends of the 2-SE interval). */
  | { kind: 'within'; margin: number };

export function reproduced(effect: number, noise: number | null, expect: Expect): boolean {
  if (noise === null) return false;
  if (expect.kind === 'greater') return effect > 0 && effect > SIGMAS * noise;
  return Math.abs(effect) + SIGMAS * noise <= expect.margin;
}
