import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { MIN_ROUNDS, alternate, benchHost, spread } from '@acereason/protocol';
import type { BenchReport, Better, PairedReport } from '@acereason/protocol';
import { validateModelConfig } from '../model/config.js';
import type { ModelConfig } from '../model/config.js';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import { DEFAULT_OPTIMIZER } from '../train/optimizer-config.js';
import { ourLogits, ourRound, benchPrompt, trainBatch, BENCH_LOSS, type Plan } from './policy-side.js';
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
  threads?: number;
  /** Rounds of (ours, PyTorch); at least MIN_ROUNDS for a full run. */
  rounds?: number;
  /** Overrides of the workload (smaller sizes for tests). */
  plan?: Partial<Plan>;
}

const FULL: Plan = { decodeBatches: [1, 16, 64], prompt: 64, newTokens: 256, trainRows: 16, trainLen: 256 };
const QUICK: Plan = { decodeBatches: [1, 16], prompt: 64, newTokens: 32, trainRows: 8, trainLen: 256 };

const r4 = (x: number): number => Number(x.toPrecision(4));
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
 * side's FLOP/s against its own large-matmul FLOP/s, and logits parity. The two sides alternate,
 * ours then PyTorch, for `rounds` rounds; every figure is reported as min / median / max per side
 * and the ratio as the median of the per-round ratios with its range. `quick` runs ours only.
 */
export async function benchPolicy(opts: PolicyBenchOptions = {}): Promise<BenchReport> {
  const quick = opts.quick === true;
  const threads = opts.threads ?? cpus().length;
  const plan: Plan = { ...(quick ? QUICK : FULL), ...opts.plan };
  const rounds = opts.rounds ?? (quick ? 1 : MIN_ROUNDS);
  const c = validateModelConfig(BENCH_MODEL);
  const optimizer = { ...DEFAULT_OPTIMIZER, microBatchTokens: plan.trainRows * plan.trainLen, learningRate: 1e-6 };
  const engine = await createOnnxEngine({ model: c, seed: 1, threads, optimizer });
  const report: BenchReport = { suite: 'policy', host: benchHost(), ratios: {} };
  report.config = { model: BENCH_MODEL, threads, rounds, ...plan, loss: BENCH_LOSS, quick };
  const better = Object.fromEntries([...plan.decodeBatches.map((b) => [`decode_b${b}`, 'higher']), ['train', 'higher'], ['matmul_1024', 'higher']]) as Record<string, Better>;
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
      torch = await TorchRef.start(dir);
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
      // Warm-up on both sides: session creation, first runs of each shape, arena growth.
      await ourRound(engine, c, { ...plan, decodeBatches: [2], newTokens: 4 }, 0, 2);
      await torch?.request('warmup');
      const ours = (): Promise<Record<string, number>> => ourRound(engine, c, plan, threads, 1);
      let ourSide: Record<string, number[]>;
      if (torch !== undefined) {
        const ref = torch;
        const baseline = async (): Promise<Record<string, number>> => {
          const r = (await ref.request('round')) as { decode: Record<string, number>; train_step_s: number; matmul_flops: number };
          return {
            ...Object.fromEntries(plan.decodeBatches.map((b) => [`decode_b${b}`, r.decode[String(b)] ?? NaN])),
            train: (plan.trainRows * plan.trainLen) / r.train_step_s,
            matmul_1024: r.matmul_flops / 1e9,
          };
        };
        const paired = await alternate({ rounds, better, ours, baseline });
        ourSide = sideOf(paired, 0);
        const torchSide = sideOf(paired, 1);
        report.pytorch = { version: ref.hello.torch, threads: ref.hello.threads, blas: ref.hello.blas, ...figures(torchSide, plan) };
        report.ratios = Object.fromEntries(Object.entries(paired.ratios).map(([k, v]) => [k, r4(v)]));
        report.ratio_spread = Object.fromEntries(Object.entries(paired.figures).map(([k, f]) => [k, roundSpread(f.ratio)]));
        report.rounds = { n: paired.rounds, order: paired.order, raw: Object.fromEntries(Object.entries(paired.figures).map(([k, f]) => [k, f.rounds.map(([a, b]) => [r4(a), r4(b)])])) };
        report.roofline = roofline(c, plan, { ours: ourSide as SideFigures, pytorch: torchSide as SideFigures });
      } else {
        const rs: Record<string, number>[] = [];
        for (let i = 0; i < rounds; i++) rs.push(await ours());
        ourSide = Object.fromEntries(Object.keys(better).map((k) => [k, rs.map((r) => r[k] ?? NaN)]));
        report.pytorch = missing;
        report.roofline = roofline(c, plan, { ours: ourSide as SideFigures });
      }
      report.ours = figures(ourSide, plan);
    } finally {
      await torch?.[Symbol.asyncDispose]();
    }
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await engine.dispose();
  }
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
