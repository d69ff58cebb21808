import { loadavg } from 'node:os';
import type ort from 'onnxruntime-node';
import { MIN_ROUNDS, ValidationError, alternateEach, benchHost, spread, significant } from '@acereason/protocol';
import type { BenchReport, Better, PairedReport } from '@acereason/protocol';
import { modelConfigFromHf } from '../model/hf-config.js';
import { hfPreset } from '../model/hf-presets.js';
import { initWeights } from '../model/params.js';
import type { ResolvedModelConfig } from '../model/config.js';
import type { FusedOps } from '../model/transformer.js';
import { GENERATION_FUSED_OPS, buildGenerationGraph } from '../graphs/compile.js';
import type { ExternalData } from '../onnx/serialize.js';
import { createSession, outF32 } from '../runtime/session.js';
import type { Feeds, OrtSession } from '../runtime/session.js';
import { decodeFeeds, embedFeed, inPlaceFetches, prefillFeeds } from './generation-feeds.js';

/**
 * `acereason bench fused-ops`: the generation graphs with ONNX Runtime's contrib kernels
 * (SkipSimplifiedLayerNormalization, RotaryEmbedding, GroupQueryAttention) against the
 * standard-op graphs, on the Qwen3-0.6B width (hidden 1024, 16 heads, 8 KV heads, head_dim 128,
 * intermediate 3072, q/k norms) at a few layers with random weights baked in (the engine's float32
 * graph: packed, external data, the fed embedding; one graph prefills with an empty past and
 * decodes). The vocabulary is cut to 16,384: the LM head is the same on both sides, and at 4 layers
 * it then weighs about as much against the layers as the full head does against 28 layers. Per
 * candidate, the sides alternate figure by figure; figures are prefill and decode tokens per
 * CPU-second of the process on one thread (the headline: on a shared machine, wall time mostly
 * measures the scheduler) and per wall-clock second, and the largest logit difference from the
 * baseline graph on the same feeds. GroupQueryAttention is measured against the default graph
 * (RotaryEmbedding), its cache with spare slots past the longest row (the standard side's cache
 * holds exactly the rows' tokens), fetching the new K/V as the engine does (`gqa`) or binding each
 * present cache to its past buffer (`gqa_bound`: the kernel writes in place, the binding copies
 * the bound outputs back). `gqa` adds the long figures: a 1,024-token prefill, decode after
 * 2,048 cached tokens, and decode of 8 rows holding 256, 512, ..., 2,048 tokens (the standard graph
 * attends over the whole cache with a mask, GroupQueryAttention reads each row to its length).
 */
export interface FusedOpsBenchOptions {
  quick?: boolean;
  layers?: number;
  rounds?: number;
  /** Only these candidates (default all: skip_norm, rotary, both, gqa, gqa_bound). */
  candidates?: readonly string[];
}

/** The candidates measured against the standard-op graph (same feeds, same outputs). */
export const FUSED_CANDIDATES: Record<string, FusedOps> = {
  skip_norm: { skipNorm: true },
  rotary: { rotary: true },
  both: { skipNorm: true, rotary: true },
};
/** GroupQueryAttention (its own feeds and outputs), measured against the default graph. */
export const GQA_CANDIDATE: FusedOps = { ...GENERATION_FUSED_OPS, gqa: true };
/** How the GroupQueryAttention side fetches: the new K/V (as the engine does), or the present caches bound to the past buffers. */
type GqaMode = 'new_kv' | 'bound';

type Figure = 'prefill' | 'decode_b1' | 'decode_b8' | 'prefill_1k' | 'decode_b1_2k' | 'decode_b8_2k' | 'decode_b8_mixed_2k';
interface Case { rows: number; tokens: number; calls: number; std: Feeds; gqa: Feeds; decode: boolean }

interface Plan { prompt: number; cache: number; steps: number; long: number; longPrompt: number }
const FULL: Plan = { prompt: 128, cache: 256, steps: 8, long: 2048, longPrompt: 1024 };
const QUICK: Plan = { prompt: 32, cache: 32, steps: 2, long: 128, longPrompt: 64 };
/** Spare slots of the GroupQueryAttention side's cache past its longest row (the engine's cache grows by chunks of 64). */
const SPARE = 64;

/** The generation session as the engine builds it for baked float32 weights, with these contrib kernels. */
export async function generationSession(c: ResolvedModelConfig, w: ReturnType<typeof initWeights>, fused: FusedOps): Promise<OrtSession> {
  const external: ExternalData[] = [];
  const g = buildGenerationGraph(c, w, 'decode', { embedInput: true, external, fused });
  return createSession(g, { executionProvider: 'cpu', threads: 1 }, external);
}

function cases(c: ResolvedModelConfig, p: Plan, e: Feeds, long: boolean): Partial<Record<Figure, Case>> & Record<'prefill' | 'decode_b1' | 'decode_b8', Case> {
  const prefill = (T: number): Case => ({ rows: 1, tokens: T, calls: 1, std: { ...prefillFeeds(c, 1, T), ...e }, gqa: { ...prefillFeeds(c, 1, T, true), ...e }, decode: false });
  const decode = (B: number, C: number, lens?: number[]): Case => ({
    rows: B, tokens: B * p.steps, calls: p.steps, decode: true,
    std: { ...decodeFeeds(c, B, C, false, lens), ...e },
    gqa: { ...decodeFeeds(c, B, C + SPARE, true, lens ?? Array<number>(B).fill(C)), ...e },
  });
  const out: Partial<Record<Figure, Case>> & Record<'prefill' | 'decode_b1' | 'decode_b8', Case> = { prefill: prefill(p.prompt), decode_b1: decode(1, p.cache), decode_b8: decode(8, p.cache) };
  if (long) {
    const b8 = decode(8, p.long);
    out.prefill_1k = prefill(p.longPrompt);
    out.decode_b1_2k = decode(1, p.long);
    out.decode_b8_2k = b8;
    // The same cache contents as decode_b8_2k (shared buffers: less memory), other row lengths.
    const mixed = decode(8, p.long, [...Array(8).keys()].map((b) => ((b + 1) * p.long) / 8));
    const past = (f: Feeds): Feeds => Object.fromEntries(Object.entries(f).filter(([k]) => k.startsWith('past_')));
    out.decode_b8_mixed_2k = { ...mixed, std: { ...mixed.std, ...past(b8.std) }, gqa: { ...mixed.gqa, ...past(b8.gqa) } };
  }
  return out;
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
  const all = cases(c, plan, e, true);
  const short: Partial<Record<Figure, Case>> = { prefill: all.prefill, decode_b1: all.decode_b1, decode_b8: all.decode_b8 };
  const wall: Record<string, Record<'fused' | 'standard', number[]>> = {};
  const newKv = ['logits', ...[...Array(layers).keys()].flatMap((i) => [`new_k_${i}`, `new_v_${i}`])];
  const runCase = async (s: OrtSession, k: Case, gqa: GqaMode | undefined): Promise<ort.InferenceSession.OnnxValueMapType> => {
    if (gqa === undefined) return s.run(k.std);
    return gqa === 'bound' && k.decode ? s.run(k.gqa, inPlaceFetches(k.gqa, layers)) : s.run(k.gqa, newKv);
  };
  const measure = async (session: OrtSession, k: Case, gqa: GqaMode | undefined, side: 'fused' | 'standard', key: string): Promise<number> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < k.calls; i++) await runCase(session, k, gqa);
    const cpu = process.cpuUsage(c0);
    ((wall[key] ??= { fused: [], standard: [] })[side]).push(k.tokens / ((performance.now() - t0) / 1000));
    return k.tokens / ((cpu.user + cpu.system) / 1e6);
  };
  type Cand = [string, FusedOps, FusedOps, GqaMode | undefined, Partial<Record<Figure, Case>>];
  const bound: Partial<Record<Figure, Case>> = { decode_b1: all.decode_b1, decode_b8: all.decode_b8, decode_b8_2k: all.decode_b8_2k };
  const candidates: Cand[] = [
    ...Object.entries(FUSED_CANDIDATES).map(([n, f]): Cand => [n, f, {}, undefined, short]),
    ['gqa', GQA_CANDIDATE, GENERATION_FUSED_OPS, 'new_kv', all],
    ['gqa_bound', GQA_CANDIDATE, GENERATION_FUSED_OPS, 'bound', bound],
  ];
  const names = candidates.map((x) => x[0]);
  const unknown = (opts.candidates ?? []).find((n) => !names.includes(n));
  if (unknown !== undefined) throw new ValidationError('candidates', `unknown candidate "${unknown}" (one of ${names.join(', ')})`);
  for (const [name, fused, baseFused, gqa, someFigs] of candidates.filter((x) => opts.candidates === undefined || opts.candidates.includes(x[0]))) {
    const figs = someFigs as Record<Figure, Case>;
    const better = Object.fromEntries(Object.keys(figs).map((f) => [f, 'higher'])) as Record<Figure, Better>;
    const base = await generationSession(c, w, baseFused);
    const cand = await generationSession(c, w, fused);
    try {
      // The first run of a session at a new shape is slow (allocation): each side runs every figure once unmeasured.
      let diff = 0;
      for (const k of Object.values(figs)) diff = Math.max(diff, maxDiff(outF32(await runCase(cand, k, gqa), 'logits'), outF32(await runCase(base, k, undefined), 'logits')));
      const paired: PairedReport<Figure> = await alternateEach({ rounds, better, ours: (f) => measure(cand, figs[f], gqa, 'fused', `${name}_${f}`), baseline: (f) => measure(base, figs[f], undefined, 'standard', `${name}_${f}`) });
      report[name] = {
        fused,
        baseline: baseFused,
        ...(gqa !== undefined ? { gqa_fetch: gqa } : {}),
        max_abs_logit_diff: diff,
        tokens_per_cpu_s: Object.fromEntries(Object.entries(paired.figures).map(([k, f]) => [k, { fused: r4s(f.ours), standard: r4s(f.baseline), ratio: r4s(f.ratio) }])),
        tokens_per_wall_s: Object.fromEntries(Object.keys(better).map((k) => {
          const w2 = wall[`${name}_${k}`] ?? { fused: [], standard: [] };
          return [k, { fused: r4s(spread(w2.fused)), standard: r4s(spread(w2.standard)), ratio: r4s(spread(w2.fused.map((x, i) => x / (w2.standard[i] ?? NaN)))) }];
        })),
        rounds: paired.rounds,
        order: paired.order,
      };
      for (const [k, v] of Object.entries(paired.ratios)) report.ratios[`${name}_${k}`] = r4(v);
    } finally {
      await cand.release();
      await base.release();
    }
  }
  report.shape = { hidden: c.hiddenSize, heads: c.numHeads, kv_heads: c.numKvHeads, head_dim: c.headDim, intermediate: c.intermediateSize, layers, vocab: c.vocabSize, threads: 1, ...plan, gqa_spare_slots: SPARE };
  report.conditions = { load_start: report.host.load, load_end: loadavg().map((x) => Number(x.toFixed(2))), seconds: Math.round((performance.now() - started) / 1000) };
  return report;
}

const r4 = (x: number): number => significant(x, 4);
const r4s = (s: ReturnType<typeof spread>): { min: number; median: number; max: number } => ({ min: r4(s.min), median: r4(s.median), max: r4(s.max) });
