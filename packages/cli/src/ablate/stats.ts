/**
 * The ablation's test of "reproduced": the paper's direction, with the effect beyond the seeds'
 * spread. Every arm of a finding runs the same seeds, and a seed fixes the prompt order, the
 * sampling seeds and the held-out prompts, so arm runs of one seed differ only by the arm: the
 * test pairs them. For arms a and b, d_s = a_s - b_s per seed, effect = mean(d) (= mean(a) -
 * mean(b)) and noise = std(d) / sqrt(n), the standard error of the mean paired difference;
 * reproduced when the effect has the paper's sign and clears 2 x noise (or, for a "within"
 * claim, the 2-noise interval stays inside the margin). With a single seed there is no spread
 * to compare against: noise is null and nothing counts as reproduced.
 */

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (n - 1); 0 for one value. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** The standard error of the mean paired difference a_i - b_i (arm runs of the same seed); null below 2 pairs. */
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
