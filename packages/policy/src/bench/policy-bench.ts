import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIN_ROUNDS, alternateEach, benchHost, pairFigures, spread, significant } from '@acereason/protocol';
import { ValidationError } from '@acereason/protocol';
import type { BenchReport, Better, PairedReport } from '@acereason/protocol';
import { validateModelConfig } from '../model/config.js';
import type { ModelConfig } from '../model/config.js';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import { DEFAULT_OPTIMIZER } from '../train/optimizer-config.js';
import { ourLogits, OurSide, benchPrompt, figureKeys, trainBatch, BENCH_LOSS, type Measurement, type Plan } from './policy-side.js';
import { roofline, type SideFigures } from './roofline.js';
import { ensureTorch, TorchRef } from './torch-ref.js';

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

export interface PolicyBenchOptions {
  quick?: boolean;
  /** Threads of each side (ONNX Runtime's intra-op pool; PyTorch's and OpenBLAS's pools); default 1. */
  threads?: number;
  /** Rounds of (ours, PyTorch); at least MIN_ROUNDS for a full run. */
  rounds?: number;
  /** Overrides of the workload (smaller sizes for tests). */
  plan?: Partial<Plan>;
}

// Sized so that one measurement takes seconds, not minutes, on a loaded 2-core machine: the
// pairs of a round are then close in time, and 5 rounds fit in a few minutes.
const FULL: Plan = { decodeBatches: [1, 16, 64], prompt: 64, newTokens: 64, trainRows: 8, trainLen: 128 };
const QUICK: Plan = { decodeBatches: [1, 16], prompt: 64, newTokens: 32, trainRows: 8, trainLen: 128 };

/**
 * One thread per side by default. With more threads than the machine has free cores (a shared
 * machine, a CI runner), every op waits at a barrier for a worker the scheduler has parked, and
 * the figures measure the scheduler: at a load of ~26 on 2 cores, PyTorch decoded 4-7x faster
 * with 1 thread than with 2, and ONNX Runtime 1.4-1.7x, so the ratio moved with the load. Use
 * `threads` to measure more on a machine of one's own.
 */
const DEFAULT_THREADS = 1;

/**
 * Which clock the headline ratios use. At one thread, work per CPU-second of the whole process:
 * it does not depend on how much of the machine other jobs take, so two runs agree even when the
 * load differs. With more threads, wall-clock time (what a user waits for). Both are reported.
 */
export type BenchClock = 'cpu' | 'wall';

const rate = (m: Measurement, clock: BenchClock): number => m.work / (clock === 'cpu' ? m.cpuS : m.wallS);

const r4 = (x: number): number => significant(x, 4);
const roundSpread = (s: { min: number; median: number; max: number }): { min: number; median: number; max: number } => ({ min: r4(s.min), median: r4(s.median), max: r4(s.max) });

/** Each side's figures per round, as the alternation reports them. */
function sideOf<K extends string>(paired: PairedReport<K>, side: 0 | 1): Record<K, number[]> {
  const out = {} as Record<K, number[]>;
  for (const k of Object.keys(paired.figures) as K[]) out[k] = paired.figures[k].rounds.map((r) => r[side]);
  return out;
}

/**
 * `acereason bench policy`: decode and training throughput of the ONNX engine against the same
 * model in PyTorch (CPU, same threads, a static KV cache, the same sampling and loss), each
 * side's FLOP/s against its own large-matmul FLOP/s, and logits parity. After a warm-up of every
 * measured shape on both sides, the sides take turns figure by figure (ours then PyTorch on
 * decode batch 1, then on batch 16, ...) for `rounds` rounds; every figure is reported as min /
 * median / max per side and the ratio as the median of the per-round ratios with its range.
 * `quick` runs ours only.
 */
export async function benchPolicy(opts: PolicyBenchOptions = {}): Promise<BenchReport> {
  const quick = opts.quick === true;
  const threads = opts.threads ?? DEFAULT_THREADS;
  if (!Number.isInteger(threads) || threads < 1) throw new ValidationError('threads', `expected a positive integer, got ${threads}`);
  const plan: Plan = { ...(quick ? QUICK : FULL), ...opts.plan };
  const rounds = opts.rounds ?? (quick ? 1 : MIN_ROUNDS);
  const c = validateModelConfig(BENCH_MODEL);
  const optimizer = { ...DEFAULT_OPTIMIZER, microBatchTokens: plan.trainRows * plan.trainLen, learningRate: 1e-6 };
  const engine = await createOnnxEngine({ model: c, seed: 1, threads, optimizer });
  const started = performance.now();
  const report: BenchReport = { suite: 'policy', host: benchHost(), ratios: {} };
  report.config = { model: BENCH_MODEL, threads, rounds, ...plan, loss: BENCH_LOSS, quick };
  const better = Object.fromEntries(figureKeys(plan).map((k) => [k, 'higher'])) as Record<string, Better>;
  const ourSide = new OurSide(engine, c, plan, threads);
  const dir = mkdtempSync(join(tmpdir(), 'acereason-bench-policy-'));
  try {
    const weights = engine.exportSafetensors();
    const missing = quick ? 'skipped: quick run (PyTorch is only used by the full benchmark)' : ensureTorch();
    let torch: TorchRef | undefined;
    if (missing === undefined) {
      const seqs = trainBatch(c, plan);
      const parityIds = [benchPrompt(48, 3, c.vocabSize), benchPrompt(48, 4, c.vocabSize)];
      writeFileSync(join(dir, 'weights.safetensors'), weights);
      writeFileSync(join(dir, 'config.json'), JSON.stringify({
        model: c, threads, decodeBatches: plan.decodeBatches, newTokens: plan.newTokens,
        prompt: [...benchPrompt(plan.prompt, 0, c.vocabSize)],
        parityShape: [2, 48], parityIds: parityIds.flatMap((x) => [...x]),
        train: {
          rows: plan.trainRows, len: plan.trainLen, tokens: seqs.flatMap((s) => [...s.tokens]),
          advantages: seqs.flatMap((s) => [...(s.advantages ?? [])]), oldLogprobs: seqs.flatMap((s) => [...(s.oldLogprobs ?? [])]),
          epsLow: BENCH_LOSS.epsLow, epsHigh: BENCH_LOSS.epsHigh, lr: optimizer.learningRate, weightDecay: optimizer.weightDecay,
          beta1: optimizer.beta1, beta2: optimizer.beta2, eps: optimizer.eps, maxGradNorm: optimizer.maxGradNorm,
        },
      }));
      torch = await TorchRef.start(dir, threads);
      // Parity before any training step changes the weights.
      const p = await torch.request('parity');
      const torchLogits = new Float32Array(new Uint8Array(readFileSync(join(dir, 'parity_logits.bin'))).buffer);
      const ours = await ourLogits(engine, parityIds, threads);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < ours.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs((ours[i] ?? 0) - (torchLogits[i] ?? NaN)));
        maxAbs = Math.max(maxAbs, Math.abs(ours[i] ?? 0));
      }
      report.parity = { logits_max_abs_diff: maxDiff, logits_max_abs: r4(maxAbs), shape: [2, 48, c.vocabSize], torch_static_cache_vs_full_forward_max_abs_diff: p.cache_vs_full_max_abs_diff };
    }
    try {
      // Warm-up on both sides: session creation, the first run of every measured shape, arenas.
      await ourSide.warmUp();
      await torch?.request('warmup');
      const clock: BenchClock = threads === 1 ? 'cpu' : 'wall';
      const other: BenchClock = clock === 'cpu' ? 'wall' : 'cpu';
      report.config = { ...(report.config as object), clock };
      let ours: Record<string, number[]>;
      if (torch !== undefined) {
        const ref = torch;
        const taken: { ours: Record<string, number>; baseline: Record<string, number> }[] = [];
        const take = (r: number, side: 'ours' | 'baseline', k: string, m: Measurement): number => {
          const round = (taken[r] ??= { ours: {}, baseline: {} });
          round[side][k] = rate(m, other);
          return rate(m, clock);
        };
        const paired = await alternateEach({ rounds, better, ours: async (k, r) => take(r, 'ours', k, await ourSide.measure(k)), baseline: async (k, r) => take(r, 'baseline', k, await ref.measure(k)) });
        ours = sideOf(paired, 0);
        const torchSide = sideOf(paired, 1);
        report.pytorch = { version: ref.hello.torch, threads: ref.hello.threads, blas: ref.hello.blas, ...figures(torchSide, plan) };
        Object.assign(report, section(paired));
        report.roofline = roofline(c, plan, { ours: ours as SideFigures, pytorch: torchSide as SideFigures });
        const second = pairFigures(better, taken);
        report[`${other}_clock`] = { ...section(second), ours: figures(sideOf(second, 0), plan), pytorch: figures(sideOf(second, 1), plan) };
      } else {
        ours = Object.fromEntries(Object.keys(better).map((k) => [k, [] as number[]]));
        for (let i = 0; i < rounds; i++) for (const k of Object.keys(better)) ours[k]?.push(rate(await ourSide.measure(k), clock));
        report.pytorch = missing;
        report.roofline = roofline(c, plan, { ours: ours as SideFigures });
      }
      report.ours = figures(ours, plan);
      // The machine's conditions: load average (1, 5, 15 min) at the end, and the run's length.
      report.conditions = { load_start: report.host.load, load_end: loadavg().map((x) => Number(x.toFixed(2))), seconds: Math.round((performance.now() - started) / 1000) };
    } finally {
      await torch?.[Symbol.asyncDispose]();
    }
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await engine.dispose();
  }
}

/** The ratios of a paired report: medians, their range, every round's raw pair. */
function section(paired: PairedReport<string>): Record<string, unknown> {
  return {
    ratios: Object.fromEntries(Object.entries(paired.ratios).map(([k, v]) => [k, r4(v)])),
    ratio_spread: Object.fromEntries(Object.entries(paired.figures).map(([k, f]) => [k, roundSpread(f.ratio)])),
    rounds: { n: paired.rounds, order: paired.order, raw: Object.fromEntries(Object.entries(paired.figures).map(([k, f]) => [k, f.rounds.map(([a, b]) => [r4(a), r4(b)])])) },
  };
}

/** One side's figures: the median (the headline) and the spread over rounds. */
function figures(side: Record<string, number[]>, plan: Plan): Record<string, unknown> {
  const med = (k: string): number => r4(spread(side[k] ?? []).median);
  return {
    decode_tokens_per_s: Object.fromEntries(plan.decodeBatches.map((b) => [`b${b}`, med(`decode_b${b}`)])),
    train_tokens_per_s: med('train'),
    matmul_1024_gflops: med('matmul_1024'),
    spread: Object.fromEntries(Object.entries(side).map(([k, v]) => [k, roundSpread(spread(v))])),
  };
}
