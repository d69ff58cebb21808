/**
 * Roofline of each side of `acereason bench policy`: the FLOP/s a workload achieves against the
 * side's own large-matmul FLOP/s measured in the same rounds. A side far below its own roofline
 * leaves its hardware idle (per-op overhead, copies, poor batching); `notes` says so in words.
 */
import { spread, significant } from '@acereason/protocol';
import type { ResolvedModelConfig } from '../model/config.js';
import { decodeFlops, forwardFlops } from './flops.js';
import type { Plan } from './policy-side.js';

/** Per figure, the value of each round (decode_b{B} and train in tokens/s, matmul_1024 in GFLOP/s). */
export type SideFigures = Record<string, number[]>;

/** Below this fraction of its own matmul FLOP/s a large workload is called out. */
const FAR_BELOW = 0.1;

const r3 = (x: number): number => significant(x, 3);

function sideRoofline(c: ResolvedModelConfig, p: Plan, f: SideFigures): Record<string, { gflops: number; fraction: number } | number> {
  const med = (k: string): number => spread(f[k] ?? []).median;
  const matmul = med('matmul_1024');
  const out: Record<string, { gflops: number; fraction: number } | number> = { matmul_1024_gflops: r3(matmul) };
  for (const b of p.decodeBatches) {
    const perToken = decodeFlops(c, b, p.prompt, p.newTokens) / (b * p.newTokens);
    const g = (perToken * med(`decode_b${b}`)) / 1e9;
    out[`decode_b${b}`] = { gflops: r3(g), fraction: r3(g / matmul) };
  }
  const trainPerToken = (3 * forwardFlops(c, p.trainRows, p.trainLen)) / (p.trainRows * p.trainLen);
  const g = (trainPerToken * med('train')) / 1e9;
  out.train = { gflops: r3(g), fraction: r3(g / matmul) };
  return out;
}

export function roofline(c: ResolvedModelConfig, p: Plan, sides: { ours: SideFigures; pytorch?: SideFigures }): Record<string, unknown> {
  const result: Record<string, unknown> = { ours: sideRoofline(c, p, sides.ours) };
  if (sides.pytorch !== undefined) result.pytorch = sideRoofline(c, p, sides.pytorch);
  const notes: string[] = [];
  const big = [`decode_b${Math.max(...p.decodeBatches)}`, 'train'];
  for (const [name, r] of Object.entries(result) as [string, Record<string, { gflops: number; fraction: number } | number>][]) {
    for (const k of big) {
      const v = r[k];
      if (typeof v === 'object' && v.fraction < FAR_BELOW) notes.push(`${name} ${k} runs at ${(v.fraction * 100).toFixed(1)}% of its own 1024^3 matmul FLOP/s (${v.gflops} of ${String(r.matmul_1024_gflops)} GFLOP/s): far below its roofline`);
    }
  }
  result.notes = notes;
  return result;
}
