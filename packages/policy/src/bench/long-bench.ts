import { cpus, totalmem } from 'node:os';
import { ValidationError, benchHost } from '@acereason/protocol';
import type { BenchReport } from '@acereason/protocol';
import type { ResolvedModelConfig } from '../model/config.js';
import { validateModelConfig } from '../model/config.js';
import { modelConfigFromHf } from '../model/hf-config.js';
import { hfPreset } from '../model/hf-presets.js';
import type { NamedTensor } from '../model/params.js';
import { numel, paramSpecs } from '../model/params.js';
import { loadHfModelDir } from '../weights/hf-model-dir.js';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import { ortMatmulFlops } from './flops.js';
import { ensureTorch } from './torch-ref.js';
import { runTorchLong } from './torch-long.js';
import { generationDrift } from './dtype-drift.js';
import type { GenerationDtype } from '../graphs/half.js';

export interface LongBenchOptions {
  /** A public model's shape with random weights (default qwen3-0.6b). */
  shape?: 'qwen3-0.6b';
  /** A Hugging Face model directory instead of a shape. */
  model?: string;
  /** Decoder layers (a slice of the model); with `tokens`, only those rows run. */
  layers?: number;
  tokens?: number[];
  /** Timed steps per row (the first includes session set-up; the report gives the last). */
  steps?: number;
  threads?: number;
  /** A small shape (d=256, vocab 4,096) and no PyTorch; one 512-token row unless `tokens` are given. */
  quick?: boolean;
  /** Skip PyTorch. */
  noTorch?: boolean;
  /**
   * Measurement of a step too long to finish: stop the LM head after this many chunks and the
   * backward after this many (top) layers (the forward, clipping and AdamW still run whole). The
   * row is marked `truncated`; its time is not a step time and no PyTorch side runs.
   */
  probe?: { headChunks?: number; backwardLayers?: number };
  /** Instead of training rows: the behaviour-logprob drift of generation copies in this dtype against the float32 learner. */
  generationDtype?: GenerationDtype;
}

/** The table: the full model at 1K-8K tokens and a 2-layer slice at 8K-32K. */
const DEFAULT_ROWS: [number, number][] = [[28, 1024], [28, 2048], [28, 4096], [28, 8192], [2, 8192], [2, 16384], [2, 32768]];

/**
 * Estimated peak bytes of the PyTorch step: fp32 weights, gradients and both AdamW moments, the [T, V]
 * logits (with log-softmax and their gradients), and per layer the [H, T, T] scores and probabilities
 * plus the linear layers' activations, which eager keeps for every layer and activation
 * checkpointing (`checkpointed`) for one layer at a time beside every layer's [T, D] input.
 */
export function torchBytes(c: ResolvedModelConfig, T: number, checkpointed: boolean): number {
  const params = paramSpecs(c).reduce((a, s) => a + numel(s.shape), 0);
  const layer = 3 * c.numHeads * T * T + 40 * T * c.hiddenSize;
  const activations = checkpointed ? c.numLayers * T * c.hiddenSize + layer : c.numLayers * layer;
  return 16 * params + 4 * (activations + 4 * T * c.vocabSize);
}

/** Where the PyTorch side fits: three quarters of this machine's memory (it runs first, while this process is small). */
const TORCH_BUDGET_BYTES = 0.75 * totalmem();

/**
 * How the PyTorch side runs a row: eager where it fits (the fastest), else with every decoder layer
 * under torch.utils.checkpoint (what a PyTorch user does when eager does not fit), else skipped.
 */
export function torchMode(c: ResolvedModelConfig, T: number, budget = TORCH_BUDGET_BYTES): { checkpoint: boolean } | { skip: string } {
  if (torchBytes(c, T, false) <= budget) return { checkpoint: false };
  const need = torchBytes(c, T, true);
  if (need <= budget) return { checkpoint: true };
  return { skip: `skipped: needs ~${round(need / 1e9, 2)} GB with activation checkpointing (budget ${round(budget / 1e9, 2)} GB: [T, V] logits and one layer's [H, T, T] attention)` };
}

/** Parameters of every decoder layer's matmuls (the 2-D weights), over all layers. */
function layerMatmulParams(c: ResolvedModelConfig): number {
  let n = 0;
  for (const s of paramSpecs(c)) if (s.shape.length === 2 && s.name.startsWith('model.layers.')) n += numel(s.shape);
  return n;
}

/** FLOPs of one training step as run here, recomputation included (causal attention counted on its lower triangle). */
export function longStepFlops(c: ResolvedModelConfig, T: number): number {
  const layerParams = layerMatmulParams(c);
  const unit = c.numHeads * c.headDim * T * (T + 1); // one causal [T, T] x [T, hd] product over all heads
  // Layers: forward, recompute, backward (2x) of the matmuls; attention: forward 2 units, recompute 2, backward 5.
  const layers = 4 * 2 * layerParams * T + c.numLayers * 9 * unit;
  const head = 3 * 2 * c.vocabSize * c.hiddenSize * T;
  return layers + head;
}

/**
 * FLOPs of the PyTorch step as it runs: eager attention multiplies the full [T, T] (masked, not
 * skipped); activation checkpointing adds one forward of every layer.
 */
export function torchStepFlops(c: ResolvedModelConfig, T: number, checkpointed: boolean): number {
  const layerParams = layerMatmulParams(c);
  const unit = 2 * c.numHeads * c.headDim * T * T; // one full [T, T] x [T, hd] product over all heads
  const passes = checkpointed ? 4 : 3; // forward (+ recompute) + backward (2x)
  return passes * 2 * layerParams * T + c.numLayers * (passes * 2) * unit + 3 * 2 * c.vocabSize * c.hiddenSize * T;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round = (x: number, d = 3): number => Number(x.toPrecision(d + 1));
const rssMb = (): number => process.resourceUsage().maxRSS / 1024;

function resolveModel(o: LongBenchOptions): { c: ResolvedModelConfig; weights?: NamedTensor[]; name: string } {
  if (o.model !== undefined) {
    const dir = loadHfModelDir(o.model);
    return { c: dir.model, weights: dir.weights, name: o.model };
  }
  if ((o.shape ?? 'qwen3-0.6b') !== 'qwen3-0.6b') throw new ValidationError('--shape', `unknown shape "${String(o.shape)}" (known: qwen3-0.6b)`);
  return { c: modelConfigFromHf(hfPreset('Qwen3-0.6B')), name: 'qwen3-0.6b' };
}

/**
 * `acereason bench long`: one training step (forward, PG loss over all response tokens, backward,
 * clipping, AdamW) on one sequence per length, with seconds, tokens/s and the process's peak RSS,
 * the same step in PyTorch where it fits, and the achieved FLOP/s against ONNX Runtime's own
 * 1024^3 MatMul in the same run.
 */
export async function benchLong(o: LongBenchOptions = {}): Promise<BenchReport> {
  const threads = o.threads ?? cpus().length;
  const steps = o.steps ?? 2;
  if (!Number.isInteger(steps) || steps < 1) throw new ValidationError('--steps', `must be an integer >= 1, got ${String(o.steps)}`);
  const base = resolveModel(o);
  let rows: [number, number][];
  if (o.quick === true && o.tokens === undefined) rows = [[2, 512]];
  else if (o.layers !== undefined || o.tokens !== undefined) rows = (o.tokens ?? [1024]).map((t) => [o.layers ?? base.c.numLayers, t]);
  else rows = DEFAULT_ROWS;
  const quickShape = o.quick === true ? { hiddenSize: 256, intermediateSize: 768, numHeads: 4, numKvHeads: 2, headDim: 64, vocabSize: 4096 } : {};
  // Bad input is refused before any work: lengths beyond the model's positions, layers beyond its depth.
  for (const [layers, T] of rows) {
    if (!Number.isInteger(T) || T < 2) throw new ValidationError('--tokens', `must be integers >= 2, got ${T}`);
    if (T > base.c.maxPositions) throw new ValidationError('--tokens', `${T} is longer than the model's max_position_embeddings (${base.c.maxPositions})`);
    if (!Number.isInteger(layers) || layers < 1 || layers > base.c.numLayers) throw new ValidationError('--layers', `must be an integer in [1, ${base.c.numLayers}], got ${layers}`);
  }
  const report: BenchReport = { suite: 'long', host: benchHost(), ratios: {} };
  if (o.generationDtype !== undefined) return driftReport(report, o, base, quickShape, threads);
  for (const [k, v] of Object.entries(o.probe ?? {})) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ValidationError(`--${k === 'headChunks' ? 'head-chunks' : 'backward-layers'}`, `must be an integer >= 1, got ${String(v)}`);
  }
  const truncated = o.probe !== undefined && (o.probe.headChunks !== undefined || o.probe.backwardLayers !== undefined);
  // The MatMul reference is sampled before and after every step (interleaved with the work, so a
  // change of the machine's load moves both) and reported as a median with its range.
  const matmulSamples: number[] = [];
  const sampleMatmul = async (): Promise<void> => {
    matmulSamples.push(await ortMatmulFlops(1024, threads, 3));
  };
  report.config = { model: base.name, threads, steps, rows, quick: o.quick === true, ...(truncated ? { probe: o.probe } : {}) };
  const torchMissing = o.noTorch === true || o.quick === true ? 'skipped' : truncated ? 'skipped: truncated step' : ensureTorch();
  const results: Record<string, unknown>[] = [];
  for (const [layers, T] of rows) {
    const c = validateModelConfig({ ...base.c, ...quickShape, numLayers: layers });
    const key = `L${layers}_T${T}`;
    const row: Record<string, unknown> = { layers, tokens: T };
    // PyTorch first, while this process is still small, so the two never hold their peaks at once.
    const mode = torchMode(c, T);
    let torchStep: number | undefined;
    if (torchMissing !== undefined) row.pytorch = torchMissing;
    else if ('skip' in mode) row.pytorch = mode.skip;
    else {
      const r = await runTorchLong({ model: c, tokens: T, steps, threads, checkpoint: mode.checkpoint });
      const times = r.step_s as number[];
      torchStep = times[times.length - 1];
      const mm = (r.matmul_1024_gflops as number[] | undefined) ?? [];
      const gflops = torchStepFlops(c, T, mode.checkpoint) / (torchStep ?? NaN) / 1e9;
      row.pytorch = {
        version: r.torch, activation_checkpointing: mode.checkpoint, step_s: times.map((x) => round(x)), tokens_per_s: round(T / (torchStep ?? NaN)), peak_rss_mb: round(Number(r.peak_rss_mb)),
        gflops: round(gflops), matmul_1024_gflops: { median: round(median(mm)), min: round(Math.min(...mm)), max: round(Math.max(...mm)) }, matmul_fraction: round(gflops / median(mm)),
      };
    }
    const weights = layers === base.c.numLayers && o.quick !== true ? base.weights : undefined;
    const engine = await createOnnxEngine({ model: c, ...(weights ? { weights } : { seed: 1 }), threads, optimizer: { microBatchTokens: T, learningRate: 1e-6 } });
    try {
      const tokens = Uint32Array.from({ length: T }, (_, i) => (i * 7919 + 13) % c.vocabSize);
      const seq = { tokens, responseStart: 1, advantages: Float32Array.from({ length: T - 1 }, (_, i) => Math.sin(i)), oldLogprobs: new Float32Array(T - 1).fill(-6) };
      const times: number[] = [];
      const rowMatmul: number[] = [];
      let phases: { phase: string; at_s: number; rss_mb: number; max_rss_mb: number }[] = [];
      for (let s = 0; s < steps; s++) {
        await sampleMatmul();
        const t0 = performance.now();
        phases = [];
        const onPhase = (phase: string): void => {
          phases.push({ phase, at_s: round((performance.now() - t0) / 1000), rss_mb: round(process.memoryUsage().rss / 2 ** 20), max_rss_mb: round(rssMb()) });
        };
        times.push((await engine.trainStep({ sequences: [seq], loss: { kind: 'pg', epsLow: 0.2, epsHigh: 0.28, aggregation: 'token-mean' } }, { ...o.probe, onPhase })).seconds);
        await sampleMatmul();
        rowMatmul.push(...matmulSamples.slice(-2));
      }
      const step = times[times.length - 1] as number;
      const mm = median(rowMatmul);
      Object.assign(row, { step_s: times.map((x) => round(x)), peak_rss_mb: round(rssMb()), phases, ort_matmul_1024_gflops: { median: round(mm / 1e9), min: round(Math.min(...rowMatmul) / 1e9), max: round(Math.max(...rowMatmul) / 1e9) } });
      if (truncated) row.truncated = `head ${o.probe?.headChunks ?? 'all'} chunks, backward ${o.probe?.backwardLayers ?? 'all'} layers: peak memory only, not a step time`;
      else {
        const flops = longStepFlops(c, T) / step;
        Object.assign(row, { tokens_per_s: round(T / step), gflops: round(flops / 1e9), matmul_fraction: round(flops / mm) });
        if (torchStep !== undefined) {
          report.ratios[`train_tokens_per_s_${key}`] = round(torchStep / step);
          // What the GEMM libraries alone give: ONNX Runtime's 1024^3 MatMul over PyTorch's, each measured beside its own step.
          const tmm = (row.pytorch as { matmul_1024_gflops: { median: number } }).matmul_1024_gflops.median;
          report.ratios[`matmul_1024_${key}`] = round(mm / 1e9 / tmm);
        }
      }
    } finally {
      await engine.dispose();
    }
    results.push(row);
  }
  report.rows = results;
  report.flops = { ort_matmul_1024_gflops: { median: round(median(matmulSamples) / 1e9), min: round(Math.min(...matmulSamples) / 1e9), max: round(Math.max(...matmulSamples) / 1e9), samples: matmulSamples.length } };
  report.notes = 'peak_rss_mb is the high-water mark of this process so far: run one row per process (--layers N --tokens T) to read each row alone';
  return report;
}

/**
 * `--generation-dtype D`: the same samples' logprobs from float32 and from D generation graphs,
 * each against the float32 learner's scoring of the tokens they produced (8 samples of 32 tokens).
 */
async function driftReport(report: BenchReport, o: LongBenchOptions, base: { c: ResolvedModelConfig; weights?: NamedTensor[]; name: string }, shape: Partial<ResolvedModelConfig>, threads: number): Promise<BenchReport> {
  const c = validateModelConfig({ ...base.c, ...shape, numLayers: o.layers ?? (o.quick === true ? 2 : base.c.numLayers) });
  const weights = c.numLayers === base.c.numLayers && o.quick !== true ? base.weights : undefined;
  const drift: Record<string, unknown>[] = [];
  for (const dtype of ['float32', o.generationDtype ?? 'float16'] as const) {
    const engine = await createOnnxEngine({ model: c, ...(weights ? { weights } : { seed: 1 }), threads, generationDtype: dtype, inferenceOnly: true });
    try {
      drift.push({ ...(await generationDrift(engine, { prompts: 4, samples: 2, newTokens: 32, seed: 7 })), peak_rss_mb: round(rssMb()) });
    } finally {
      await engine.dispose();
    }
  }
  report.config = { model: base.name, layers: c.numLayers, threads, quick: o.quick === true };
  report.generation_drift = drift;
  const [f32, half] = drift as { generate_s: number }[];
  if (f32 !== undefined && half !== undefined) report.ratios[`generate_speed_${o.generationDtype ?? 'float16'}_vs_float32`] = round(f32.generate_s / half.generate_s);
  return report;
}
