import ort from 'onnxruntime-node';
import { Ops } from '../onnx/ops.js';
import { serializeModel } from '../onnx/serialize.js';
import { createSession } from '../runtime/session.js';
import type { ResolvedModelConfig } from '../model/config.js';
import { paramSpecs, numel } from '../model/params.js';

/** Parameters used in matmuls per token (everything but the embedding gather, plus a tied head). */
export function matmulParams(c: ResolvedModelConfig): number {
  let n = 0;
  for (const p of paramSpecs(c)) if (p.shape.length === 2 && p.name !== 'model.embed_tokens.weight') n += numel(p.shape);
  if (c.tieEmbeddings) n += c.vocabSize * c.hiddenSize;
  return n;
}

/** Forward FLOPs of `rows` sequences of `T` tokens attending over the full (square) T x T scores. */
export function forwardFlops(c: ResolvedModelConfig, rows: number, T: number): number {
  const attn = 4 * T * T * c.numHeads * c.headDim * c.numLayers;
  return rows * (2 * matmulParams(c) * T + attn);
}

/** FLOPs of generating `newTokens` after a `prompt`-token prefill for `batch` rows. */
export function decodeFlops(c: ResolvedModelConfig, batch: number, prompt: number, newTokens: number): number {
  let f = forwardFlops(c, batch, prompt);
  for (let t = 1; t < newTokens; t++) f += batch * (2 * matmulParams(c) + 4 * (prompt + t) * c.numHeads * c.headDim * c.numLayers);
  return f;
}

/** Wall and CPU seconds of a piece of work (CPU: every thread of this process, as `process.cpuUsage` counts). */
export interface Timed { wallS: number; cpuS: number }

/** Runs `work` and returns its wall and CPU seconds. */
export async function timed(work: () => Promise<unknown>): Promise<Timed> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wallS, cpuS: (c.user + c.system) / 1e6 };
}

/** ONNX Runtime's own fp32 MatMul at n x n x n: median wall and CPU seconds over `reps` runs after a warm run. */
export async function ortMatmulSeconds(n: number, threads: number, reps: number): Promise<Timed> {
  const o = new Ops('matmul');
  o.output(o.matmul(o.input('a', [n, n]), o.input('b', [n, n])), 'c');
  const s = await createSession(serializeModel(o.g), { executionProvider: 'cpu', threads });
  try {
    const a = new ort.Tensor('float32', new Float32Array(n * n).fill(0.5), [n, n]);
    const b = new ort.Tensor('float32', new Float32Array(n * n).fill(0.25), [n, n]);
    await s.run({ a, b });
    const runs: Timed[] = [];
    for (let i = 0; i < reps; i++) runs.push(await timed(() => s.run({ a, b })));
    const mid = (xs: number[]): number => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
    return { wallS: mid(runs.map((r) => r.wallS)), cpuS: mid(runs.map((r) => r.cpuS)) };
  } finally {
    await s.release();
  }
}

/** ONNX Runtime's own fp32 MatMul throughput at n x n x n on this machine (FLOP/s, wall clock). */
export async function ortMatmulFlops(n: number, threads: number, reps: number): Promise<number> {
  return (2 * n * n * n) / (await ortMatmulSeconds(n, threads, reps)).wallS;
}
