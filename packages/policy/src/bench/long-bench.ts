import { cpus } from 'node:os';
import { ValidationError, benchHost, significant, spread } from '@acereason/protocol';
import type { BenchReport } from '@acereason/protocol';
import type { ResolvedModelConfig } from '../model/config.js';
import { validateModelConfig } from '../model/config.js';
import { modelConfigFromHf } from '../model/hf-config.js';
import { hfPreset } from '../model/hf-presets.js';
import type { NamedTensor } from '../model/params.js';
import { loadHfModelDir } from '../weights/hf-model-dir.js';
import { planHfWeights } from '../weights/hf-dir-reader.js';
import { createOnnxEngine } from '../engine/onnx-engine.js';
import { ensureTorch } from './torch-ref.js';
import { runTorchLong } from './torch-long.js';
import { measureOursRow } from './long-ours.js';
import { roundsRow } from './long-rounds.js';
import { longStepFlops, torchMode, torchStepFlops } from './long-model.js';

export { longStepFlops, torchBytes, torchMode, torchStepFlops } from './long-model.js';
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
  /**
   * Alternate the sides in fresh processes for this many rounds, one step per process (long-rounds.ts):
   * per side min / median / max and the median per-round ratio with its range. Full steps only.
   */
  rounds?: number;
  threads?: number;
  /** A small shape (d=256, vocab 4,096) and no PyTorch; one 512-token row unless `tokens` are given. */
  quick?: boolean;
  /** Skip PyTorch. */
  noTorch?: boolean;
  /** Run PyTorch on the quick shape too (which skips it by default). */
  torch?: boolean;
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

const median = (xs: readonly number[]): number => spread(xs).median;
const round = (x: number): number => significant(x);
const rssMb = (): number => process.resourceUsage().maxRSS / 1024;

function resolveModel(o: LongBenchOptions): { c: ResolvedModelConfig; weights?: NamedTensor[]; name: string } {
  if (o.model !== undefined) {
    // With rounds each child process reads the weights itself: here the checked plan gives the config.
    if (o.rounds !== undefined) return { c: planHfWeights(o.model).model, name: o.model };
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
 * 1024^3 MatMul in the same run. With `rounds`, each row's sides alternate in fresh processes
 * (long-rounds.ts).
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
  if (o.rounds !== undefined) {
    if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new ValidationError('--rounds', `must be an integer >= 1, got ${String(o.rounds)}`);
    if (truncated) throw new ValidationError('--rounds', 'times full steps: it does not go with --head-chunks / --backward-layers');
    if (o.steps !== undefined) throw new ValidationError('--rounds', 'runs one step per process and round: it does not go with --steps');
  }
  const matmulSamples: number[] = [];
  report.config = { model: base.name, threads, ...(o.rounds !== undefined ? { rounds: o.rounds } : { steps }), rows, quick: o.quick === true, ...(truncated ? { probe: o.probe } : {}) };
  const torchMissing = o.noTorch === true || (o.quick === true && o.torch !== true) ? 'skipped' : truncated ? 'skipped: truncated step' : ensureTorch();
  const results: Record<string, unknown>[] = [];
  for (const [layers, T] of rows) {
    const c = validateModelConfig({ ...base.c, ...quickShape, numLayers: layers });
    const key = `L${layers}_T${T}`;
    const mode = torchMissing !== undefined ? { skip: torchMissing } : torchMode(c, T);
    const full = layers === base.c.numLayers && o.quick !== true;
    if (o.rounds !== undefined) {
      const r = await roundsRow({ model: c, ...(full && o.model !== undefined ? { modelDir: o.model } : {}), tokens: T, threads, rounds: o.rounds, torch: mode }, key);
      Object.assign(report.ratios, r.ratios);
      results.push(r.row);
      continue;
    }
    const row: Record<string, unknown> = { layers, tokens: T };
    // PyTorch first, while this process is still small, so the two never hold their peaks at once.
    let torchStep: number | undefined;
    if ('skip' in mode) row.pytorch = mode.skip;
    else {
      const r = await runTorchLong({ model: c, tokens: T, steps, threads, checkpoint: mode.checkpoint });
      const times = r.step_s;
      torchStep = times[times.length - 1];
      const mm = r.matmul_1024_gflops;
      const gflops = torchStepFlops(c, T, mode.checkpoint) / (torchStep ?? NaN) / 1e9;
      row.pytorch = {
        version: r.torch, activation_checkpointing: mode.checkpoint, step_s: times.map((x) => round(x)), cpu_s: r.cpu_s.map((x) => round(x)), tokens_per_s: round(T / (torchStep ?? NaN)), peak_rss_mb: round(r.peak_rss_mb),
        gflops: round(gflops), matmul_1024_gflops: { median: round(median(mm)), min: round(Math.min(...mm)), max: round(Math.max(...mm)) }, matmul_fraction: round(gflops / median(mm)),
      };
    }
    const ours = await measureOursRow({ model: c, ...(full && base.weights ? { weights: base.weights } : {}), tokens: T, steps, threads, ...(o.probe ? { probe: o.probe } : {}) });
    matmulSamples.push(...ours.matmul_flops);
    const step = ours.step_s[ours.step_s.length - 1] as number;
    const mm = median(ours.matmul_flops);
    Object.assign(row, {
      step_s: ours.step_s.map((x) => round(x)), cpu_s: ours.cpu_s.map((x) => round(x)), peak_rss_mb: ours.peak_rss_mb, phases: ours.phases,
      ort_matmul_1024_gflops: { median: round(mm / 1e9), min: round(Math.min(...ours.matmul_flops) / 1e9), max: round(Math.max(...ours.matmul_flops) / 1e9) },
    });
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
    results.push(row);
  }
  report.rows = results;
  if (matmulSamples.length > 0) report.flops = { ort_matmul_1024_gflops: { median: round(median(matmulSamples) / 1e9), min: round(Math.min(...matmulSamples) / 1e9), max: round(Math.max(...matmulSamples) / 1e9), samples: matmulSamples.length } };
  report.notes = o.rounds !== undefined ? 'each side of each round ran in its own fresh process: peak_rss_mb is that process\'s high-water mark (the max over rounds)' : 'peak_rss_mb is the high-water mark of this process so far: run one row per process (--layers N --tokens T) to read each row alone';
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
