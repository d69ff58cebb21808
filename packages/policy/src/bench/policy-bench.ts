import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { benchHost, summarize } from '@acereason/protocol';
import type { BenchReport } from '@acereason/protocol';
import { validateModelConfig } from '../model/config.js';
import type { ModelConfig, ResolvedModelConfig } from '../model/config.js';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import type { OnnxEngine } from '../engine/onnx-engine.js';
import type { TrainSequence } from '../engine/types.js';
import { buildLogitsGraph } from '../graphs/compile.js';
import { sequenceFeeds } from '../engine/batching.js';
import { paramFeeds } from '../train/trainer.js';
import { createSession, outF32 } from '../runtime/session.js';
import { decodeFlops, forwardFlops, ortMatmulFlops } from './flops.js';
import { ensureTorch, runTorchRef } from './torch-ref.js';

/** The benchmark's reference model: 4 layers, d=256, 4 heads (2 KV heads), vocab 512. */
export const BENCH_MODEL: ModelConfig = {
  vocabSize: 512,
  hiddenSize: 256,
  intermediateSize: 768,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  ropeTheta: 10000,
  maxPositions: 2048,
  rmsNormEps: 1e-6,
  attentionBias: true,
  tieEmbeddings: false,
};

interface Plan {
  decodeBatches: number[];
  prompt: number;
  newTokens: number;
  trainRows: number;
  trainLen: number;
  trainSteps: number;
}

const prompt = (n: number, seed: number, vocab: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + 7) % vocab);

async function decodeTokensPerSecond(e: OnnxEngine, p: Plan, batch: number): Promise<number> {
  const sampling = { temperature: 1, topP: 1, topK: 0, maxNewTokens: p.newTokens, stopTokens: [] };
  const t0 = performance.now();
  const out = await e.generate([{ sampleKey: `bench-${batch}`, promptTokens: prompt(p.prompt, batch, e.model.vocabSize), numSamples: batch, sampling, seed: 1 }]);
  const dt = (performance.now() - t0) / 1000;
  const tokens = out.reduce((s, o) => s + o.tokens.length, 0);
  return tokens / dt;
}

function trainBatch(c: ResolvedModelConfig, p: Plan): TrainSequence[] {
  return [...Array(p.trainRows).keys()].map((r) => ({
    tokens: prompt(p.trainLen, r, c.vocabSize),
    responseStart: 1,
    advantages: Float32Array.from({ length: p.trainLen - 1 }, (_, i) => Math.sin(r + i)),
    oldLogprobs: new Float32Array(p.trainLen - 1).fill(-6),
  }));
}

async function ourLogits(e: OnnxEngine, ids: Uint32Array[], threads: number): Promise<Float32Array> {
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

const round = (x: number, d = 3): number => Number(x.toPrecision(d + 1));

/**
 * `acereason bench policy`: decode and training throughput of the ONNX engine against the same
 * model in PyTorch (CPU, same threads), achieved FLOP/s against ONNX Runtime's own large-matmul
 * FLOP/s, and a logits parity check. `quick` shortens everything and skips PyTorch.
 */
export async function benchPolicy(opts: { quick?: boolean; threads?: number } = {}): Promise<BenchReport> {
  const quick = opts.quick === true;
  const threads = opts.threads ?? cpus().length;
  const c = validateModelConfig(BENCH_MODEL);
  const plan: Plan = quick
    ? { decodeBatches: [1, 16], prompt: 64, newTokens: 32, trainRows: 8, trainLen: 256, trainSteps: 1 }
    : { decodeBatches: [1, 16, 64], prompt: 64, newTokens: 256, trainRows: 16, trainLen: 256, trainSteps: 3 };
  const engine = await createOnnxEngine({ model: c, seed: 1, threads, optimizer: { microBatchTokens: plan.trainRows * plan.trainLen, learningRate: 1e-6 } });
  const report: BenchReport = { suite: 'policy', host: benchHost(), ratios: {} };
  try {
    report.config = { model: BENCH_MODEL, threads, ...plan, quick };
    const weights = engine.exportSafetensors();
    // Warm up: session creation and first runs are not part of the figures.
    await engine.generate([{ sampleKey: 'warm', promptTokens: prompt(plan.prompt, 0, c.vocabSize), numSamples: 2, sampling: { temperature: 1, topP: 1, topK: 0, maxNewTokens: 4, stopTokens: [] }, seed: 0 }]);
    const decode: Record<string, number> = {};
    // Best of 5 runs at batch 1, 2 at 16, 1 at 64: the machine may be shared; PyTorch does the same.
    for (const b of plan.decodeBatches) {
      let best = 0;
      const reps = quick ? 1 : b === 1 ? 5 : b >= 64 ? 1 : 2;
      for (let r = 0; r < reps; r++) best = Math.max(best, await decodeTokensPerSecond(engine, plan, b));
      decode[`b${b}`] = round(best);
    }
    const seqs = trainBatch(c, plan);
    const loss = { kind: 'pg' as const, epsLow: 0.2, epsHigh: 0.28, aggregation: 'token-mean' as const };
    // The first run of a new shape is several times slower (kernel setup, arena growth).
    for (let i = 0; i < 2; i++) await engine.trainStep({ sequences: seqs, loss });
    const stepTimes: number[] = [];
    for (let i = 0; i < plan.trainSteps; i++) stepTimes.push((await engine.trainStep({ sequences: seqs, loss })).seconds);
    const stepS = summarize(stepTimes).min;
    const trainTokens = plan.trainRows * plan.trainLen;
    const matmul = await ortMatmulFlops(1024, threads, quick ? 3 : 7);
    const lastB = plan.decodeBatches[plan.decodeBatches.length - 1] ?? 1;
    const decodeFlopsPerS = (decodeFlops(c, lastB, plan.prompt, plan.newTokens) / (lastB * plan.newTokens)) * (decode[`b${lastB}`] ?? 0);
    const trainFlopsPerS = (3 * forwardFlops(c, plan.trainRows, plan.trainLen)) / stepS;
    report.ours = { decode_tokens_per_s: decode, train_tokens_per_s: round(trainTokens / stepS), train_step_s: round(stepS) };
    report.flops = {
      ort_matmul_1024_gflops: round(matmul / 1e9),
      [`decode_b${lastB}_gflops`]: round(decodeFlopsPerS / 1e9),
      [`decode_b${lastB}_fraction`]: round(decodeFlopsPerS / matmul),
      train_gflops: round(trainFlopsPerS / 1e9),
      train_fraction: round(trainFlopsPerS / matmul),
    };
    if (quick) {
      report.pytorch = 'skipped: quick run (PyTorch is only used by the full benchmark)';
      return report;
    }
    const missing = ensureTorch();
    if (missing !== undefined) {
      report.pytorch = missing;
      return report;
    }
    const dir = mkdtempSync(join(tmpdir(), 'acereason-bench-policy-'));
    try {
      const parityIds = [prompt(48, 3, c.vocabSize), prompt(48, 4, c.vocabSize)];
      writeFileSync(join(dir, 'weights.safetensors'), weights);
      writeFileSync(join(dir, 'parity_ids.bin'), new Uint8Array(Int32Array.from(parityIds.flatMap((x) => [...x])).buffer));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: c, threads, parityShape: [2, 48], ...plan }));
      const ref = await runTorchRef(dir);
      const torchLogits = new Float32Array(new Uint8Array(readFileSync(join(dir, 'parity_logits.bin'))).buffer);
      await engine.loadWeights(weights);
      const ours = await ourLogits(engine, parityIds, threads);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < ours.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((ours[i] ?? 0) - (torchLogits[i] ?? NaN)));
        maxAbs = Math.max(maxAbs, Math.abs(ours[i] ?? 0));
      }
      const td = (ref.decode ?? {}) as Record<string, number>;
      const tt = Number(ref.train);
      report.pytorch = { version: ref.torch, threads: ref.threads, blas: ref.blas, decode_tokens_per_s: Object.fromEntries(Object.entries(td).map(([k, v]) => [`b${k}`, round(v)])), train_tokens_per_s: round(tt) };
      report.parity = { logits_max_abs_diff: maxDiff, logits_max_abs: round(maxAbs), shape: [2, 48, c.vocabSize] };
      for (const b of plan.decodeBatches) report.ratios[`decode_b${b}`] = round((decode[`b${b}`] ?? 0) / (td[String(b)] ?? NaN));
      report.ratios.train = round(trainTokens / stepS / tt);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return report;
  } finally {
    await engine.dispose();
  }
}
