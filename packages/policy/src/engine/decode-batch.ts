import type ort from 'onnxruntime-node';
import type { ResolvedModelConfig } from '../model/config.js';
import type { OrtSession, Feeds } from '../runtime/session.js';
import { f32, i32, outF32 } from '../runtime/session.js';
import { ropeTables } from '../graphs/host-inputs.js';
import type { SampleRng } from '../sampling/rng.js';
import { sampleToken } from '../sampling/sampler.js';
import type { SamplingParams } from '../sampling/sampler.js';
import type { FinishReason, GeneratedSample, TokenObserver } from './types.js';
import { KvCache } from './kv-cache.js';
import { decodeLayout, type DecodeLayout } from './decode-layout.js';

/** KV cache capacity is a multiple of this many slots. */
export const KV_CHUNK = 64;
/** The cache memory is reserved once for prompt + max new tokens when that fits in this many bytes (else it may reallocate). */
export const KV_BUDGET_BYTES = 4 * 2 ** 30;
/** Batches up to this many rows use the single-threaded decode session (when the generator has one). */
const SMALL_DECODE_ROWS = 2;

/** One sample being generated. */
export interface Row {
  sampleKey: string;
  sampleIndex: number;
  prompt: Uint32Array;
  sampling: SamplingParams;
  rng: SampleRng;
  stopWhen: ((generated: readonly number[]) => boolean) | undefined;
  onToken: TokenObserver | undefined;
  tokens: number[];
  logprobs: number[];
  entropy: number[];
  finish?: FinishReason;
  /** A callback of the row threw: the row stopped, and its request fails with this. */
  error?: unknown;
}

export const sampleOf = (r: Row): GeneratedSample => ({
  sampleKey: r.sampleKey,
  sampleIndex: r.sampleIndex,
  tokens: Uint32Array.from(r.tokens),
  logprobs: Float32Array.from(r.logprobs),
  entropy: Float32Array.from(r.entropy),
  finishReason: r.finish ?? 'length',
});

/** What a decode batch runs on: a generator's compiled sessions and its sampling scratch. */
export interface DecodeSessions {
  c: ResolvedModelConfig;
  /** The decode graph; it also prefills (an empty past: the same values as the prefill graph, one copy of the weights). */
  decode: OrtSession;
  /** Single-threaded decode session for small batches, if any. */
  smallDecode: OrtSession | undefined;
  /** Weights fed on every run when they are not baked into the graphs. */
  weightFeeds: Feeds;
  inv: Float64Array;
  scratch: Float64Array;
  order: Int32Array;
}

/**
 * A decode batch that rows can join between steps (continuous batching). Rows joining together
 * are prefilled together (right-padded); their keys and values go into new cache rows, so from the
 * next step they decode alongside the others, each row attending to its own prompt and tokens
 * only. Finished rows leave at once. Where the rows sit in the cache, and what the graph is fed so
 * each sees only its own slots, is the cache layout's (decode-layout.ts: shared, or per row for
 * the GroupQueryAttention graph).
 */
export class DecodeBatch {
  private rows: Row[] = [];
  private cache: KvCache | undefined;
  private readonly layout: DecodeLayout;
  /** The outputs fetched: not GroupQueryAttention's present caches (onnxruntime-node would copy each whole cache out). */
  private readonly fetch: string[];

  constructor(private readonly s: DecodeSessions) {
    this.layout = decodeLayout(s.decode.inputNames, s.c, KV_CHUNK);
    const L = s.c.numLayers;
    this.fetch = ['logits', ...[...Array(L).keys()].flatMap((l) => [`new_k_${l}`, `new_v_${l}`])];
  }

  get size(): number {
    return this.rows.length;
  }

  get live(): readonly Row[] {
    return this.rows;
  }

  /** Prefills `group` and adds it to the batch; returns its rows that finished on their first token (they are not kept). */
  async admit(group: readonly Row[]): Promise<Row[]> {
    if (group.length === 0) return [];
    const c = this.s.c;
    const { numLayers: L, numKvHeads: KV, headDim: hd, hiddenSize: D } = c;
    const G = group.length;
    const T = Math.max(...group.map((r) => r.prompt.length));
    const ids = new Int32Array(G * T);
    const pos = new Int32Array(G * T);
    const pick = new Int32Array(G * D);
    group.forEach((r, b) => {
      ids.set(r.prompt, b * T);
      for (let t = 0; t < T; t++) pos[b * T + t] = t;
      pick.fill(r.prompt.length - 1, b * D, (b + 1) * D);
    });
    const rt = ropeTables(c, pos, this.s.inv);
    const feeds: Feeds = {
      ...this.s.weightFeeds,
      ids: i32(ids, [G, T]),
      cos: f32(rt.cos, [G, T, hd]),
      sin: f32(rt.sin, [G, T, hd]),
      pick: i32(pick, [G, 1, D]),
      ...this.layout.prefillFeeds(group.map((r) => r.prompt.length), T),
    };
    const out = await this.s.decode.run(feeds, this.fetch);
    const [k, v] = newKv(out, L);
    let cache = this.cache;
    if (cache === undefined || this.rows.length === 0) {
      // One allocation for the prompt and every new token a row may still take (capped by maxPositions).
      const full = Math.min(c.maxPositions, T + Math.max(...group.map((r) => r.sampling.maxNewTokens)));
      const slotBytes = 2 * L * G * KV * hd * 4;
      const reserve = full * slotBytes <= KV_BUDGET_BYTES ? full : Math.max(T + KV_CHUNK, Math.floor(KV_BUDGET_BYTES / slotBytes));
      cache = this.cache = new KvCache(L, G, KV, hd, Math.min(reserve, T + KV_CHUNK), KV_CHUNK, reserve);
      cache.append(k, v, T);
    } else {
      this.layout.addRows(cache, this.rows.length, G, k, v, T);
    }
    this.layout.placeRows(group, cache, T);
    this.rows.push(...group);
    const logits = outF32(out, 'logits');
    const done = group.filter((r, g) => this.take(r, logits, g));
    return this.remove(done);
  }

  /** One decode step for every row; returns the rows that finished (they leave the batch). */
  async step(): Promise<Row[]> {
    const cache = this.cache;
    if (cache === undefined || this.rows.length === 0) return [];
    const { headDim: hd, hiddenSize: D, numLayers: L } = this.s.c;
    const B = this.rows.length;
    // Each row's new token: the last one sampled, at the position after its prompt and earlier tokens.
    const positions = Int32Array.from(this.rows, (r) => r.prompt.length + r.tokens.length - 1);
    const attention = this.layout.stepFeeds(this.rows, positions, cache);
    const st = ropeTables(this.s.c, positions, this.s.inv);
    const feeds: Feeds = {
      ...this.s.weightFeeds,
      ids: i32(Int32Array.from(this.rows, (r) => r.tokens[r.tokens.length - 1] ?? 0), [B, 1]),
      cos: f32(st.cos, [B, 1, hd]),
      sin: f32(st.sin, [B, 1, hd]),
      pick: i32(new Int32Array(B * D), [B, 1, D]),
      ...attention,
    };
    const out = await this.session(B).run(feeds, this.fetch);
    const [k, v] = newKv(out, L);
    this.layout.stepWritten(positions, cache, k, v);
    const logits = outF32(out, 'logits');
    const done = this.rows.filter((r, k) => this.take(r, logits, k));
    return this.remove(done);
  }

  private session(B: number): OrtSession {
    return B <= SMALL_DECODE_ROWS && this.s.smallDecode !== undefined ? this.s.smallDecode : this.s.decode;
  }

  /** Takes `rows` out of the batch (e.g. a failed request's), as if they had finished. */
  drop(rows: ReadonlySet<Row>): void {
    this.remove(this.rows.filter((r) => rows.has(r)));
  }

  private remove(done: Row[]): Row[] {
    if (done.length === 0) return done;
    const gone = new Set(done);
    const keep: number[] = [];
    this.rows.forEach((r, i) => { if (!gone.has(r)) keep.push(i); });
    this.cache?.keepRows(keep);
    this.rows = keep.map((i) => this.rows[i] as Row);
    this.layout.keepRows(keep);
    if (this.cache !== undefined && this.rows.length > 0) this.layout.compact(this.rows, this.cache);
    return done;
  }

  /** Samples row's next token from its logits (batch row b); returns whether the row is finished. */
  private take(row: Row, logits: Float32Array, b: number): boolean {
    const V = this.s.c.vocabSize;
    const s = sampleToken(logits, b * V, V, row.sampling, row.rng.next(), this.s.scratch, this.s.order);
    row.tokens.push(s.token);
    row.logprobs.push(s.logprob);
    row.entropy.push(s.entropy);
    try {
      if (row.sampling.stopTokens.includes(s.token) || row.stopWhen?.(row.tokens) === true) row.finish = 'stop';
      else if (row.tokens.length >= row.sampling.maxNewTokens || row.prompt.length + row.tokens.length >= this.s.c.maxPositions) row.finish = 'length';
      row.onToken?.(row.sampleIndex, row.tokens, row.logprobs);
    } catch (err) {
      row.error = err;
      row.finish ??= 'stop';
    }
    return row.finish !== undefined;
  }
}

function newKv(o: Record<string, ort.Tensor>, L: number): [Float32Array[], Float32Array[]] {
  return [
    [...Array(L).keys()].map((l) => outF32(o, `new_k_${l}`)),
    [...Array(L).keys()].map((l) => outF32(o, `new_v_${l}`)),
  ];
}
