import ort from 'onnxruntime-node';
import type { ResolvedModelConfig } from '../model/config.js';
import type { OrtSession, Feeds, RuntimeOptions } from '../runtime/session.js';
import { createSession, f32, i32, outF32 } from '../runtime/session.js';
import { buildGenerationGraph } from '../graphs/compile.js';
import type { NamedTensor } from '../model/params.js';
import { KvCache } from './kv-cache.js';

/** KV cache capacity is a multiple of this many slots. */
const KV_CHUNK = 64;
/** The cache memory is reserved once for prompt + max new tokens when that fits in this many bytes (else it may reallocate). */
export const KV_BUDGET_BYTES = 4 * 2 ** 30;
/** Weights up to this size are baked into the generation graphs (and packed); larger ones are fed. */
export const BAKE_LIMIT_BYTES = 1.5 * 2 ** 30;
/** Batches up to this many rows use the single-threaded decode session (models up to the size below). */
const SMALL_DECODE_ROWS = 2;
const SMALL_DECODE_LIMIT_BYTES = 256 * 2 ** 20;
import { MASKED, causalMask, ropeInvFreq, ropeTables } from '../graphs/host-inputs.js';
import { SampleRng } from '../sampling/rng.js';
import { sampleToken, validateSampling } from '../sampling/sampler.js';
import type { SamplingParams } from '../sampling/sampler.js';
import type { FinishReason, GenerateRequest, GeneratedSample } from './types.js';
import { ValidationError } from '@acereason/protocol';

interface Row {
  sampleKey: string;
  sampleIndex: number;
  prompt: Uint32Array;
  sampling: SamplingParams;
  rng: SampleRng;
  stopWhen: ((generated: readonly number[]) => boolean) | undefined;
  tokens: number[];
  logprobs: number[];
  entropy: number[];
  finish?: FinishReason;
}

/**
 * Batched generation over the prefill/decode graph. Rows are right-padded for prefill; each decode
 * step appends one K/V slot to every row, masks each row's padding hole, and drops finished rows
 * from the batch.
 */
export class Generator {
  private readonly inv: Float64Array;
  private readonly scratch: Float64Array;
  private readonly order: Int32Array;

  private constructor(
    private readonly c: ResolvedModelConfig,
    private readonly prefill: OrtSession,
    private readonly decode: OrtSession,
    private readonly maxBatch: number,
    /** Weights fed on every run when they are not baked into the graphs. */
    private readonly weightFeeds: Feeds,
    /** Single-threaded decode session for small batches (see `create`), if any. */
    private readonly smallDecode: OrtSession | undefined,
  ) {
    this.inv = ropeInvFreq(c);
    this.scratch = new Float64Array(c.vocabSize);
    this.order = new Int32Array(c.vocabSize);
  }

  /** Compiles the prefill and decode graphs with `weights` baked in. */
  /** `share`: fed weights use the caller's buffers (which must then not change while it runs) instead of a copy. */
  static async create(c: ResolvedModelConfig, weights: readonly NamedTensor[], rt: RuntimeOptions, maxBatch: number, bakeLimit = BAKE_LIMIT_BYTES, share = false): Promise<Generator> {
    // ONNX models are one protobuf (2 GiB limit): larger models get their weights as inputs.
    const bytes = weights.reduce((n, t) => n + t.data.byteLength, 0);
    const bake = bytes <= bakeLimit;
    const prefill = await createSession(buildGenerationGraph(c, bake ? weights : 'inputs', 'prefill'), rt);
    const decode = await createSession(buildGenerationGraph(c, bake ? weights : 'inputs', 'decode'), rt);
    const weightFeeds: Feeds = {};
    if (!bake) for (const t of weights) weightFeeds[t.name] = f32(share ? t.data : Float32Array.from(t.data), t.shape);
    // A decode step of one or two rows is too small to split across threads, and a multi-threaded
    // pool stalls whenever one of its workers is descheduled (a shared machine): small batches of
    // small models decode on their own single-threaded session.
    const small = rt.threads !== 1 && bytes <= SMALL_DECODE_LIMIT_BYTES ? await createSession(buildGenerationGraph(c, bake ? weights : 'inputs', 'decode'), { ...rt, threads: 1 }) : undefined;
    return new Generator(c, prefill, decode, maxBatch, weightFeeds, small);
  }

  async release(): Promise<void> {
    await this.prefill.release();
    await this.decode.release();
    await this.smallDecode?.release();
  }

  async generate(requests: readonly GenerateRequest[]): Promise<GeneratedSample[]> {
    const rows: Row[] = [];
    requests.forEach((r, i) => {
      const f = `requests[${i}]`;
      validateSampling(r.sampling, `${f}.sampling`);
      if (r.promptTokens.length === 0) throw new ValidationError(`${f}.promptTokens`, 'must not be empty');
      if (r.promptTokens.length >= this.c.maxPositions) throw new ValidationError(`${f}.promptTokens`, `longer than maxPositions (${this.c.maxPositions})`);
      if (r.promptTokens.some((t) => t >= this.c.vocabSize)) throw new ValidationError(`${f}.promptTokens`, 'token id outside the vocabulary');
      if (!Number.isInteger(r.numSamples) || r.numSamples < 1) throw new ValidationError(`${f}.numSamples`, 'must be an integer >= 1');
      for (let s = 0; s < r.numSamples; s++) {
        rows.push({ sampleKey: r.sampleKey, sampleIndex: s, prompt: r.promptTokens, sampling: r.sampling, rng: new SampleRng(r.seed, r.sampleKey, s), stopWhen: r.stopWhen, tokens: [], logprobs: [], entropy: [] });
      }
    });
    for (let i = 0; i < rows.length; i += this.maxBatch) await this.runBatch(rows.slice(i, i + this.maxBatch));
    return rows.map((r) => ({
      sampleKey: r.sampleKey,
      sampleIndex: r.sampleIndex,
      tokens: Uint32Array.from(r.tokens),
      logprobs: Float32Array.from(r.logprobs),
      entropy: Float32Array.from(r.entropy),
      finishReason: r.finish ?? 'length',
    }));
  }

  /** Samples the next token of each row from its logits; returns whether the row is finished. */
  private take(row: Row, logits: Float32Array, b: number): boolean {
    const V = this.c.vocabSize;
    const s = sampleToken(logits, b * V, V, row.sampling, row.rng.next(), this.scratch, this.order);
    row.tokens.push(s.token);
    row.logprobs.push(s.logprob);
    row.entropy.push(s.entropy);
    if (row.sampling.stopTokens.includes(s.token) || row.stopWhen?.(row.tokens) === true) row.finish = 'stop';
    else if (row.tokens.length >= row.sampling.maxNewTokens || row.prompt.length + row.tokens.length >= this.c.maxPositions) row.finish = 'length';
    return row.finish !== undefined;
  }

  private async runBatch(batch: Row[]): Promise<void> {
    const { numLayers: L, numKvHeads: KV, headDim: hd, hiddenSize: D } = this.c;
    const B0 = batch.length;
    const T = Math.max(...batch.map((r) => r.prompt.length));
    const lens = batch.map((r) => r.prompt.length);
    const ids = new Int32Array(B0 * T);
    const pos = new Int32Array(B0 * T);
    const pick = new Int32Array(B0 * D);
    batch.forEach((r, b) => {
      ids.set(r.prompt, b * T);
      for (let t = 0; t < T; t++) pos[b * T + t] = t;
      pick.fill(r.prompt.length - 1, b * D, (b + 1) * D);
    });
    const rt = ropeTables(this.c, pos, this.inv);
    let out = await this.prefill.run({
      ...this.weightFeeds,
      ids: i32(ids, [B0, T]),
      cos: f32(rt.cos, [B0, T, hd]),
      sin: f32(rt.sin, [B0, T, hd]),
      mask: f32(causalMask(lens, T), [B0, 1, 1, T, T]),
      pick: i32(pick, [B0, 1, D]),
    });
    // One allocation for the prompt and every new token a row may still take (capped by maxPositions).
    const full = Math.min(this.c.maxPositions, T + Math.max(...batch.map((r) => r.sampling.maxNewTokens)));
    const slotBytes = 2 * L * B0 * KV * hd * 4;
    const reserve = full * slotBytes <= KV_BUDGET_BYTES ? full : Math.max(T + KV_CHUNK, Math.floor(KV_BUDGET_BYTES / slotBytes));
    const cache = new KvCache(L, B0, KV, hd, Math.min(reserve, T + KV_CHUNK), KV_CHUNK, reserve);
    const newKv = (o: typeof out): [Float32Array[], Float32Array[]] => [
      [...Array(L).keys()].map((l) => outF32(o, `new_k_${l}`)),
      [...Array(L).keys()].map((l) => outF32(o, `new_v_${l}`)),
    ];
    cache.append(...newKv(out), T);
    let active = batch.map((_, b) => b);
    let logits = outF32(out, 'logits');
    let kept = active.filter((b, k) => !this.take(batch[b] as Row, logits, k));
    for (let step = 1; kept.length > 0; step++) {
      if (kept.length !== active.length) {
        cache.keepRows(kept.map((b) => active.indexOf(b)));
        active = kept;
      }
      cache.grow(cache.used + 1);
      const B = active.length;
      const C = cache.slots;
      const stepIds = new Int32Array(B);
      const stepPos = new Int32Array(B);
      // Row k may see cache slots [0, len) (its prompt) and [T, used) (its generated tokens), and itself.
      const mask = new Float32Array(B * (C + 1)).fill(MASKED);
      active.forEach((b, k) => {
        const r = batch[b] as Row;
        stepIds[k] = r.tokens[r.tokens.length - 1] ?? 0;
        stepPos[k] = r.prompt.length + step - 1;
        const row = k * (C + 1);
        mask.fill(0, row, row + r.prompt.length);
        mask.fill(0, row + T, row + cache.used);
        mask[row + C] = 0;
      });
      const st = ropeTables(this.c, stepPos, this.inv);
      const feeds: Feeds = {
        ...this.weightFeeds,
        ids: i32(stepIds, [B, 1]),
        cos: f32(st.cos, [B, 1, hd]),
        sin: f32(st.sin, [B, 1, hd]),
        mask: f32(mask, [B, 1, 1, 1, C + 1]),
        pick: i32(new Int32Array(B * D), [B, 1, D]),
        split_sizes: new ort.Tensor('int64', BigInt64Array.from([BigInt(C), 1n]), [2]),
      };
      cache.feeds(feeds);
      out = await (B <= SMALL_DECODE_ROWS && this.smallDecode !== undefined ? this.smallDecode : this.decode).run(feeds);
      cache.append(...newKv(out), 1);
      logits = outF32(out, 'logits');
      kept = active.filter((b, k) => !this.take(batch[b] as Row, logits, k));
    }
  }
}

