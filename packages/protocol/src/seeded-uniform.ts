/**
 * The one seeded uniform generator of the project (mulberry32): the same seed gives the same
 * stream on every machine. `half-open` values are in [0, 1) (index picking, sampling points);
 * `open` values are in (0, 1), the same stream shifted by half a step, for a `log(u)` that must
 * never see 0 (weight initialisers). `seededNormal` is the one normal stream built on it.
 */
export type UniformRange = 'half-open' | 'open';

export function seededUniform(seed: number, range: UniformRange = 'half-open'): () => number {
  const offset = range === 'open' ? 0.5 : 0;
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + offset) / 4294967296;
  };
}

/**
 * N(0, scale^2) values from a seed: Box-Muller over the open stream (two uniforms per value, the
 * sine half unused), `scale * sqrt(-2 ln u1) * cos(2 pi u2)` evaluated left to right.
 */
export function seededNormal(seed: number, scale = 1): () => number {
  const u = seededUniform(seed, 'open');
  return () => scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}
