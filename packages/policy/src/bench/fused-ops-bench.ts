import { loadavg } from 'node:os';
import ort from 'onnxruntime-node';
import { MIN_ROUNDS, alternateEach, benchHost, spread } from '@acereason/protocol';
import type { BenchReport, Better, PairedReport } from '@acereason/protocol';
import { modelConfigFromHf } from '../model/hf-config.js';
import { hfPreset } from '../model/hf-presets.js';
import { initWeights } from '../model/params.js';
import type { ResolvedModelConfig } from '../model/config.js';
import type { FusedOps } from '../model/transformer.js';
import { EMBED_TABLE_INPUT, buildGenerationGraph } from '../graphs/compile.js';
import type { ExternalData } from '../onnx/serialize.js';
import { causalMask, ropeTables } from '../graphs/host-inputs.js';
import { createSession, f32, i32, outF32 } from '../runtime/session.js';
import type { Feeds, OrtSession } from '../runtime/session.js';

/**
 * `acereason bench fused-ops`: the generation graphs with ONNX Runtime's contrib kernels
 * (SkipSimplifiedLayerNormalization, RotaryEmbedding) against the standard-op graphs, on the
 * Qwen3-0.6B width (hidden 1024, 16 heads, 8 KV heads, head_dim 128, intermediate 3072, q/k norms)
 * at a few layers with random weights baked in (the engine's float32 graph: packed, external data, the
 * fed embedding; one graph prefills with an empty past and decodes). The vocabulary
 * is cut to 16,384: the LM head is the same on both sides, and at 4 layers it then weighs about
 * as much against the layers as the full head does against 28 layers. Per candidate, the sides
 * alternate figure by figure; figures are prefill and decode tokens per CPU-second of the process
 * on one thread (the headline: on a shared machine, wall time mostly measures the scheduler) and
 * per wall-clock second, and the largest logit difference from the standard graph on the same feeds.
 */
export interface FusedOpsBenchOptions {
  quick?: boolean;
  layers?: number;
  rounds?: number;
}

export const FUSED_CANDIDATES: Record<string, FusedOps> = {
  skip_norm: { skipNorm: true },
  rotary: { rotary: true },
  both: { skipNorm: true, rotary: true },
};
type Figure = 'prefill' | 'decode_b1' | 'decode_b8';
const BETTER: Record<Figure, Better> = { prefill: 'higher', decode_b1: 'higher', decode_b8: 'higher' };

interface Plan { prefillRows: number; prompt: number; cache: number; steps: number }
const FULL: Plan = { prefillRows: 1, prompt: 128, cache: 256, steps: 8 };
const QUICK: Plan = { prefillRows: 1, prompt: 32, cache: 32, steps: 2 };

/** The generation session as the engine builds it for baked float32 weights, with these contrib kernels. */
export async function generationSession(c: ResolvedModelConfig, w: ReturnType<typeof initWeights>, fused: FusedOps): Promise<OrtSession> {
  const external: ExternalData[] = [];
  const g = buildGenerationGraph(c, w, 'decode', { embedInput: true, external, fused });
  return createSession(g, { executionProvider: 'cpu', threads: 1 }, external);
}

/** The fed embedding table of `generationSession`'s graph. */
export function embedFeed(c: ResolvedModelConfig, w: ReturnType<typeof initWeights>): Feeds {
  const t = w.find((x) => x.name === 'model.embed_tokens.weight');
  if (t === undefined) throw new Error('weights lack model.embed_tokens.weight');
  return { [EMBED_TABLE_INPUT]: f32(t.data, [c.vocabSize, c.hiddenSize]) };
}

function pastFeeds(c: ResolvedModelConfig, B: number, C: number, feeds: Feeds): Feeds {
  const kv = (seed: number): Float32Array => new Float32Array(B * c.numKvHeads * C * c.headDim).map((_, k) => Math.sin(k * 0.37 + seed));
  for (let i = 0; i < c.numLayers; i++) {
    feeds[`past_k_${i}`] = f32(kv(i), [B, c.numKvHeads, 1, C, c.headDim]);
    feeds[`past_v_${i}`] = f32(kv(i + 0.5), [B, c.numKvHeads, 1, C, c.headDim]);
  }
  return feeds;
}

/** Prefill feeds of B full rows of T tokens, an empty past (also the fused-graph parity test's; add embedFeed). */
export function prefillFeeds(c: ResolvedModelConfig, B: number, T: number): Feeds {
  const ids = new Int32Array(B * T).map((_, k) => (k * 7919) % c.vocabSize);
  const pos = Array.from({ length: B * T }, (_, k) => k % T);
  const { cos, sin } = ropeTables(c, pos);
  const feeds: Feeds = {
    ids: i32(ids, [B, T]), cos: f32(cos, [B, T, c.headDim]), sin: f32(sin, [B, T, c.headDim]),
    mask: f32(causalMask(Array(B).fill(T), T), [B, 1, 1, T, T]), pick: i32(new Int32Array(B * c.hiddenSize).fill(T - 1), [B, 1, c.hiddenSize]),
  };
  return pastFeeds(c, B, 0, { ...feeds, split_sizes: new ort.Tensor('int64', BigInt64Array.from([0n, BigInt(T)]), [2]) });
}

/** Decode feeds: one new token per row after C cached slots of synthetic K/V. */
export function decodeFeeds(c: ResolvedModelConfig, B: number, C: number): Feeds {
  const { cos, sin } = ropeTables(c, Array(B).fill(C));
  const feeds: Feeds = {
    ids: i32(new Int32Array(B).map((_, b) => 11 + b), [B, 1]), cos: f32(cos, [B, 1, c.headDim]), sin: f32(sin, [B, 1, c.headDim]),
    mask: f32(new Float32Array(B * (C + 1)), [B, 1, 1, 1, C + 1]), pick: i32(new Int32Array(B * c.hiddenSize), [B, 1, c.hiddenSize]),
    split_sizes: new ort.Tensor('int64', BigInt64Array.from([BigInt(C), 1n]), [2]),
  };
  return pastFeeds(c, B, C, feeds);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs((a[k] as number) - (b[k] as number)));
  return m;
}

export async function benchFusedOps(opts: FusedOpsBenchOptions = {}): Promise<BenchReport> {
  const quick = opts.quick === true;
  const plan = quick ? QUICK : FULL;
  const layers = opts.layers ?? (quick ? 1 : 4);
  const rounds = opts.rounds ?? (quick ? 1 : MIN_ROUNDS + 2);
  const c = modelConfigFromHf(hfPreset('Qwen3-0.6B', { num_hidden_layers: layers, vocab_size: quick ? 1024 : 16384 }));
  const w = initWeights(c, 3);
  const report: BenchReport = { suite: 'fused-ops', host: benchHost(), ratios: {} };
  const started = performance.now();
  const e = embedFeed(c, w);
  const feeds = { prefill: { ...prefillFeeds(c, plan.prefillRows, plan.prompt), ...e }, decode_b1: { ...decodeFeeds(c, 1, plan.cache), ...e }, decode_b8: { ...decodeFeeds(c, 8, plan.cache), ...e } };
  const wall: Record<string, Record<'fused' | 'standard', number[]>> = {};
  const measure = async (session: OrtSession, f: Figure, side: 'fused' | 'standard', cand: string): Promise<number> => {
    const calls = f === 'prefill' ? 1 : plan.steps;
    const tokens = f === 'prefill' ? plan.prefillRows * plan.prompt : (f === 'decode_b1' ? 1 : 8) * plan.steps;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let k = 0; k < calls; k++) await session.run(feeds[f]);
    const cpu = process.cpuUsage(c0);
    ((wall[`${cand}_${f}`] ??= { fused: [], standard: [] })[side]).push(tokens / ((performance.now() - t0) / 1000));
    return tokens / ((cpu.user + cpu.system) / 1e6);
  };
  const base = await generationSession(c, w, {});
  try {
    // The first run of a session at a new shape is slow (allocation): each side runs every figure once unmeasured.
    const ref = { prefill: outF32(await base.run(feeds.prefill), 'logits'), decode: outF32(await base.run(feeds.decode_b8), 'logits') };
    await base.run(feeds.decode_b1);
    for (const [name, fused] of Object.entries(FUSED_CANDIDATES)) {
      const cand = await generationSession(c, w, fused);
      try {
        const diff = Math.max(maxDiff(outF32(await cand.run(feeds.prefill), 'logits'), ref.prefill), maxDiff(outF32(await cand.run(feeds.decode_b8), 'logits'), ref.decode));
        await cand.run(feeds.decode_b1);
        const paired: PairedReport<Figure> = await alternateEach({ rounds, better: BETTER, ours: (f) => measure(cand, f, 'fused', name), baseline: (f) => measure(base, f, 'standard', name) });
        report[name] = {
          fused,
          max_abs_logit_diff: diff,
          tokens_per_cpu_s: Object.fromEntries(Object.entries(paired.figures).map(([k, f]) => [k, { fused: r4s(f.ours), standard: r4s(f.baseline), ratio: r4s(f.ratio) }])),
          tokens_per_wall_s: Object.fromEntries(Object.keys(BETTER).map((k) => {
            const w2 = wall[`${name}_${k}`] ?? { fused: [], standard: [] };
            return [k, { fused: r4s(spread(w2.fused)), standard: r4s(spread(w2.standard)), ratio: r4s(spread(w2.fused.map((x, i) => x / (w2.standard[i] ?? NaN)))) }];
          })),
          rounds: paired.rounds,
          order: paired.order,
        };
        for (const [k, v] of Object.entries(paired.ratios)) report.ratios[`${name}_${k}`] = r4(v);
      } finally {
        await cand.release();
      }
    }
  } finally {
    await base.release();
  }
  report.shape = { hidden: c.hiddenSize, heads: c.numHeads, kv_heads: c.numKvHeads, head_dim: c.headDim, intermediate: c.intermediateSize, layers, vocab: c.vocabSize, threads: 1, ...plan };
  report.conditions = { load_start: report.host.load, load_end: loadavg().map((x) => Number(x.toFixed(2))), seconds: Math.round((performance.now() - started) / 1000) };
  return report;
}

const r4 = (x: number): number => Number(x.toPrecision(4));
const r4s = (s: ReturnType<typeof spread>): { min: number; median: number; max: number } => ({ min: r4(s.min), median: r4(s.median), max: r4(s.max) });
