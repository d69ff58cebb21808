/** Our side of `acereason bench policy`: the workload on the ONNX engine, one round at a time. */
import type { ResolvedModelConfig } from '../model/config.js';
import type { OnnxEngine } from '../engine/onnx-engine.js';
import type { TrainSequence } from '../engine/types.js';
import { buildLogitsGraph } from '../graphs/compile.js';
import { sequenceFeeds } from '../engine/batching.js';
import { paramFeeds } from '../train/trainer.js';
import { createSession, outF32 } from '../runtime/session.js';
import { ortMatmulFlops } from './flops.js';

export interface Plan {
  decodeBatches: number[];
  prompt: number;
  newTokens: number;
  trainRows: number;
  trainLen: number;
}

/** The loss both sides train with: PPO-clip, token-mean over the response tokens. */
export const BENCH_LOSS = { kind: 'pg' as const, epsLow: 0.2, epsHigh: 0.28, aggregation: 'token-mean' as const };

/** Deterministic token ids (the same on both sides). */
export const benchPrompt = (n: number, seed: number, vocab: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + 7) % vocab);

export function trainBatch(c: ResolvedModelConfig, p: Plan): TrainSequence[] {
  return [...Array(p.trainRows).keys()].map((r) => ({
    tokens: benchPrompt(p.trainLen, r, c.vocabSize),
    responseStart: 1,
    advantages: Float32Array.from({ length: p.trainLen - 1 }, (_, i) => Math.sin(r + i)),
    oldLogprobs: new Float32Array(p.trainLen - 1).fill(-6),
  }));
}

async function decodeTokensPerSecond(e: OnnxEngine, p: Plan, batch: number): Promise<number> {
  const sampling = { temperature: 1, topP: 1, topK: 0, maxNewTokens: p.newTokens, stopTokens: [] };
  const t0 = performance.now();
  const out = await e.generate([{ sampleKey: `bench-${batch}`, promptTokens: benchPrompt(p.prompt, 0, e.model.vocabSize), numSamples: batch, sampling, seed: 1 }]);
  const dt = (performance.now() - t0) / 1000;
  return out.reduce((s, o) => s + o.tokens.length, 0) / dt;
}

/**
 * One measurement of every figure: decode tokens/s at each batch size, training tokens/s of the
 * last of `trainSteps` steps, and ONNX Runtime's own 1024^3 MatMul GFLOP/s (our roofline).
 */
export async function ourRound(e: OnnxEngine, c: ResolvedModelConfig, p: Plan, threads: number, trainSteps: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const b of p.decodeBatches) out[`decode_b${b}`] = await decodeTokensPerSecond(e, p, b);
  const seqs = trainBatch(c, p);
  let seconds = NaN;
  for (let i = 0; i < trainSteps; i++) seconds = (await e.trainStep({ sequences: seqs, loss: BENCH_LOSS })).seconds;
  out.train = (p.trainRows * p.trainLen) / seconds;
  out.matmul_1024 = (await ortMatmulFlops(1024, threads, 3)) / 1e9;
  return out;
}

/** Full-sequence logits of `ids` with the engine's current weights (for parity). */
export async function ourLogits(e: OnnxEngine, ids: Uint32Array[], threads: number): Promise<Float32Array> {
  const s = await createSession(buildLogitsGraph(e.model), { executionProvider: 'cpu', threads });
  try {
    const { feeds } = sequenceFeeds(e.model, ids);
    delete feeds.targets;
    Object.assign(feeds, paramFeeds(e.exportWeights()));
    return outF32(await s.run(feeds), 'logits');
  } finally {
    await s.release();
  }
}
