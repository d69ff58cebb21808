import ort from 'onnxruntime-node';
import type { ResolvedModelConfig } from '../model/config.js';
import type { OrtSession, Feeds } from '../runtime/session.js';
import { f32, i32, outF32 } from '../runtime/session.js';
import { MASKED, causalMask, gqaLengths, ropeTables } from '../graphs/host-inputs.js';
import type { SampleRng } from '../sampling/rng.js';
import { sampleToken } from '../sampling/sampler.js';
import type { SamplingParams } from '../sampling/sampler.js';
import type { FinishReason, GeneratedSample, TokenObserver } from './types.js';
import { KvCache } from './kv-cache.js';

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
 * Where a row's keys and values sit in its cache row: its prompt at [promptAt, promptAt + len),
 * its generated tokens from genAt on, except the holes (slots taken while the row decoded, for a
 * newcomer's longer prompt).
 */
interface Placement {
  promptAt: number;
  genAt: number;
  holes: Array<[number, number]>;
}

/**
 * A decode batch that rows can join between steps (continuous batching). Rows joining together
 * are prefilled together (right-padded); their keys and values go into new cache rows right
 * before the current slot, so from the next step they decode alongside the others, each row's
 * mask showing only its own prompt and tokens. Finished rows leave at once; slots no row sees
 * any more are dropped from the front.
 *
 * With the GroupQueryAttention graph (FusedOps.gqa: it has a `seqlens_k` input) the cache rows
 * are laid out as that kernel reads them instead: row k holds its tokens from slot 0, slot =
 * position, to its own length n_k (its prompt, then each new token at slot n_k), fed as
 * `seqlens_k`; no mask, no holes (a newcomer's prompt goes to slots [0, T) of its new row), and
 * nothing to drop from the front (the slots past the longest remaining row are just unused).
 */
export class DecodeBatch {
  private rows: Row[] = [];
  private at: Placement[] = [];
  private cache: KvCache | undefined;
  /** The GroupQueryAttention graph: rows at their own lengths from slot 0 (see the class comment). */
  private readonly perRow: boolean;
  /** The outputs fetched: not GroupQueryAttention's present caches (onnxruntime-node would copy each whole cache out). */
  private readonly fetch: string[];

  constructor(private readonly s: DecodeSessions) {
    this.perRow = s.decode.inputNames.includes('seqlens_k');
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
      ...(this.perRow
        ? gqaLengths(group.map((r) => r.prompt.length - 1), T)
        : { mask: f32(causalMask(group.map((r) => r.prompt.length), T), [G, 1, 1, T, T]), split_sizes: new ort.Tensor('int64', BigInt64Array.from([0n, BigInt(T)]), [2]) }),
    };
    // The prompt attends causally to itself through the decode graph's "new tokens" half.
    const noPast = f32(new Float32Array(0), this.perRow ? [G, KV, 0, hd] : [G, KV, 1, 0, hd]);
    for (let l = 0; l < L; l++) feeds[`past_k_${l}`] = feeds[`past_v_${l}`] = noPast;
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
    } else if (this.perRow) {
      // The newcomers' prompts start at slot 0 of their rows.
      if (T > cache.used) cache.advance(T - cache.used);
      cache.addRows(G);
      cache.write(this.rows.length, G, k, v, T, 0);
    } else {
      // The newcomers' prompts end at the current slot; a prompt longer than the slots used so far takes more, a hole for the others.
      const used = cache.used;
      if (T > used) {
        for (const p of this.at) p.holes.push([used, T]);
        cache.advance(T - used);
      }
      cache.addRows(G);
      cache.write(this.rows.length, G, k, v, T, cache.used - T);
    }
    for (const r of group) {
      this.rows.push(r);
      this.at.push(this.perRow ? { promptAt: 0, genAt: r.prompt.length, holes: [] } : { promptAt: cache.used - T, genAt: cache.used, holes: [] });
    }
    const logits = outF32(out, 'logits');
    const done = group.filter((r, g) => this.take(r, logits, g));
    return this.remove(done);
  }

  /** One decode step for every row; returns the rows that finished (they leave the batch). */
  async step(): Promise<Row[]> {
    const cache = this.cache;
    if (cache === undefined || this.rows.length === 0) return [];
    if (this.perRow) return this.stepPerRow(cache);
    const { headDim: hd, hiddenSize: D, numLayers: L } = this.s.c;
    cache.grow(cache.used + 1);
    const B = this.rows.length;
    const C = cache.slots;
    const stepIds = new Int32Array(B);
    const stepPos = new Int32Array(B);
    // Row k sees its prompt, its generated tokens but not the holes in them, and itself.
    const mask = new Float32Array(B * (C + 1)).fill(MASKED);
    this.rows.forEach((r, k) => {
      const p = this.at[k] as Placement;
      stepIds[k] = r.tokens[r.tokens.length - 1] ?? 0;
      stepPos[k] = r.prompt.length + r.tokens.length - 1;
      const row = k * (C + 1);
      mask.fill(0, row + p.promptAt, row + p.promptAt + r.prompt.length);
      mask.fill(0, row + p.genAt, row + cache.used);
      for (const [a, b] of p.holes) mask.fill(MASKED, row + a, row + b);
      mask[row + C] = 0;
    });
    const st = ropeTables(this.s.c, stepPos, this.s.inv);
    const feeds: Feeds = {
      ...this.s.weightFeeds,
      ids: i32(stepIds, [B, 1]),
      cos: f32(st.cos, [B, 1, hd]),
      sin: f32(st.sin, [B, 1, hd]),
      mask: f32(mask, [B, 1, 1, 1, C + 1]),
      pick: i32(new Int32Array(B * D), [B, 1, D]),
      split_sizes: new ort.Tensor('int64', BigInt64Array.from([BigInt(C), 1n]), [2]),
    };
    cache.feeds(feeds);
    const out = await this.session(B).run(feeds, this.fetch);
    cache.append(...newKv(out, L), 1);
    const logits = outF32(out, 'logits');
    const done = this.rows.filter((r, k) => this.take(r, logits, k));
    return this.remove(done);
  }

  /** A decode step of the GroupQueryAttention graph: row k's token goes to slot n_k, its position. */
  private async stepPerRow(cache: KvCache): Promise<Row[]> {
    const { headDim: hd, hiddenSize: D, numLayers: L } = this.s.c;
    const B = this.rows.length;
    const n = Int32Array.from(this.rows, (r) => r.prompt.length + r.tokens.length - 1);
    const longest = Math.max(...n);
    // cache.used >= every n_k (see compact): the rows' slots survive growing.
    cache.grow(longest + 1);
    const st = ropeTables(this.s.c, n, this.s.inv);
    const feeds: Feeds = {
      ...this.s.weightFeeds,
      ids: i32(Int32Array.from(this.rows, (r) => r.tokens[r.tokens.length - 1] ?? 0), [B, 1]),
      cos: f32(st.cos, [B, 1, hd]),
      sin: f32(st.sin, [B, 1, hd]),
      pick: i32(new Int32Array(B * D), [B, 1, D]),
      ...gqaLengths(n, longest + 1),
    };
    cache.feeds(feeds, true);
    const out = await this.session(B).run(feeds, this.fetch);
    cache.writeEach(n, ...newKv(out, L));
    cache.used = Math.max(cache.used, longest + 1);
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
    this.at = keep.map((i) => this.at[i] as Placement);
    this.compact();
    return done;
  }

  /** Drops leading slots no row sees any more (rows that joined late keep the cache from growing without end). */
  private compact(): void {
    const cache = this.cache;
    if (cache === undefined || this.at.length === 0) return;
    if (this.perRow) {
      // Only the remaining rows' slots are kept when the cache next grows.
      cache.used = Math.max(...this.rows.map((r) => r.prompt.length + r.tokens.length - 1));
      return;
    }
    const m = Math.min(...this.at.map((p) => p.promptAt));
    if (m < KV_CHUNK) return;
    cache.shift(m);
    for (const p of this.at) {
      p.promptAt -= m;
      p.genAt -= m;
      p.holes = p.holes.map(([a, b]) => [a - m, b - m]);
    }
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
