/**
 * The two layouts of a decode batch's KV cache, one object each behind `DecodeLayout`: where a
 * row's keys and values sit in its cache row, what the graph is fed so each row attends to its
 * own tokens only, and how the cache is written and trimmed as rows join and leave.
 *
 * - Shared (the default graph): every row's new token goes to the same slot (the cache's end).
 *   Rows joining later are written right before it, so a row's prompt sits at [promptAt,
 *   promptAt + len) and its generated tokens from genAt on, minus the holes (slots taken while it
 *   decoded, for a newcomer's longer prompt); a mask shows each row its own slots, and slots no
 *   row sees any more are dropped from the front.
 * - Per row (the GroupQueryAttention graph, FusedOps.gqa: it has a `seqlens_k` input): laid out as
 *   that kernel reads it. Row k holds its tokens from slot 0, slot = position, to its own length
 *   n_k (its prompt, then each new token at slot n_k), fed as `seqlens_k`; no mask, no holes (a
 *   newcomer's prompt goes to slots [0, T) of its new row), and nothing to drop from the front
 *   (the slots past the longest remaining row are just unused).
 */
import ort from 'onnxruntime-node';
import type { Feeds } from '../runtime/session.js';
import { f32 } from '../runtime/session.js';
import { MASKED, causalMask, gqaLengths } from '../graphs/host-inputs.js';
import type { KvCache } from './kv-cache.js';

/** What a layout needs to know of a row: its prompt and the tokens generated so far. */
export interface LayoutRow {
  prompt: Uint32Array;
  tokens: number[];
}

export interface DecodeLayout {
  /** The prefill's attention feeds for prompts of `lengths`, right-padded to T, with an empty past in every layer. */
  prefillFeeds(lengths: readonly number[], T: number): Feeds;
  /** Writes a prefilled group's keys and values (G new rows, T slots) into a cache that holds `rows` rows. */
  addRows(cache: KvCache, rows: number, G: number, k: Float32Array[], v: Float32Array[], T: number): void;
  /** Records where the group's rows sit, their keys and values just written (their prompts padded to T). */
  placeRows(group: readonly LayoutRow[], cache: KvCache, T: number): void;
  /** Grows the cache for one decode step and gives its attention feeds; `positions` are the rows' new tokens' positions. */
  stepFeeds(rows: readonly LayoutRow[], positions: Int32Array, cache: KvCache): Feeds;
  /** Stores the step's new keys and values. */
  stepWritten(positions: Int32Array, cache: KvCache, k: Float32Array[], v: Float32Array[]): void;
  /** Keeps the rows at these indices (in this order), as the cache does. */
  keepRows(keep: readonly number[]): void;
  /** Trims what no remaining row sees any more (there is at least one row). */
  compact(rows: readonly LayoutRow[], cache: KvCache): void;
}

/** The layout the decode graph reads: per row when it takes `seqlens_k` (GroupQueryAttention), else shared. */
export function decodeLayout(inputNames: readonly string[], dims: { numLayers: number; numKvHeads: number; headDim: number }, chunk: number): DecodeLayout {
  return inputNames.includes('seqlens_k') ? new PerRowLayout(dims) : new SharedLayout(dims, chunk);
}

function emptyPast(feeds: Feeds, layers: number, past: ort.Tensor): Feeds {
  for (let l = 0; l < layers; l++) feeds[`past_k_${l}`] = feeds[`past_v_${l}`] = past;
  return feeds;
}

/** See the file comment: rows share the cache's end slot; a mask, holes and a trimmed front. */
interface Placement {
  promptAt: number;
  genAt: number;
  holes: Array<[number, number]>;
}

class SharedLayout implements DecodeLayout {
  private at: Placement[] = [];

  constructor(private readonly d: { numLayers: number; numKvHeads: number; headDim: number }, private readonly chunk: number) {}

  prefillFeeds(lengths: readonly number[], T: number): Feeds {
    const G = lengths.length;
    const feeds: Feeds = { mask: f32(causalMask(lengths, T), [G, 1, 1, T, T]), split_sizes: new ort.Tensor('int64', BigInt64Array.from([0n, BigInt(T)]), [2]) };
    // The prompt attends causally to itself through the decode graph's "new tokens" half.
    return emptyPast(feeds, this.d.numLayers, f32(new Float32Array(0), [G, this.d.numKvHeads, 1, 0, this.d.headDim]));
  }

  addRows(cache: KvCache, rows: number, G: number, k: Float32Array[], v: Float32Array[], T: number): void {
    // The newcomers' prompts end at the current slot; a prompt longer than the slots used so far takes more, a hole for the others.
    const used = cache.used;
    if (T > used) {
      for (const p of this.at) p.holes.push([used, T]);
      cache.advance(T - used);
    }
    cache.addRows(G);
    cache.write(rows, G, k, v, T, cache.used - T);
  }

  placeRows(group: readonly LayoutRow[], cache: KvCache, T: number): void {
    for (let g = 0; g < group.length; g++) this.at.push({ promptAt: cache.used - T, genAt: cache.used, holes: [] });
  }

  stepFeeds(rows: readonly LayoutRow[], _positions: Int32Array, cache: KvCache): Feeds {
    cache.grow(cache.used + 1);
    const B = rows.length;
    const C = cache.slots;
    // Row k sees its prompt, its generated tokens but not the holes in them, and itself.
    const mask = new Float32Array(B * (C + 1)).fill(MASKED);
    rows.forEach((r, k) => {
      const p = this.at[k] as Placement;
      const row = k * (C + 1);
      mask.fill(0, row + p.promptAt, row + p.promptAt + r.prompt.length);
      mask.fill(0, row + p.genAt, row + cache.used);
      for (const [a, b] of p.holes) mask.fill(MASKED, row + a, row + b);
      mask[row + C] = 0;
    });
    const feeds: Feeds = { mask: f32(mask, [B, 1, 1, 1, C + 1]), split_sizes: new ort.Tensor('int64', BigInt64Array.from([BigInt(C), 1n]), [2]) };
    cache.feeds(feeds);
    return feeds;
  }

  stepWritten(_positions: Int32Array, cache: KvCache, k: Float32Array[], v: Float32Array[]): void {
    cache.append(k, v, 1);
  }

  keepRows(keep: readonly number[]): void {
    this.at = keep.map((i) => this.at[i] as Placement);
  }

  /** Drops leading slots no row sees any more (rows that joined late keep the cache from growing without end). */
  compact(_rows: readonly LayoutRow[], cache: KvCache): void {
    const m = Math.min(...this.at.map((p) => p.promptAt));
    if (m < this.chunk) return;
    cache.shift(m);
    for (const p of this.at) {
      p.promptAt -= m;
      p.genAt -= m;
      p.holes = p.holes.map(([a, b]) => [a - m, b - m]);
    }
  }
}

/** See the file comment: row k's tokens at slots [0, n_k), its new token at slot n_k. */
class PerRowLayout implements DecodeLayout {
  constructor(private readonly d: { numLayers: number; numKvHeads: number; headDim: number }) {}

  prefillFeeds(lengths: readonly number[], T: number): Feeds {
    const feeds = gqaLengths(lengths.map((n) => n - 1), T);
    return emptyPast(feeds, this.d.numLayers, f32(new Float32Array(0), [lengths.length, this.d.numKvHeads, 0, this.d.headDim]));
  }

  addRows(cache: KvCache, rows: number, G: number, k: Float32Array[], v: Float32Array[], T: number): void {
    // The newcomers' prompts start at slot 0 of their rows.
    if (T > cache.used) cache.advance(T - cache.used);
    cache.addRows(G);
    cache.write(rows, G, k, v, T, 0);
  }

  placeRows(): void {
    // A row's place follows from its length.
  }

  stepFeeds(_rows: readonly LayoutRow[], positions: Int32Array, cache: KvCache): Feeds {
    const longest = Math.max(...positions);
    // cache.used >= every n_k (see compact): the rows' slots survive growing.
    cache.grow(longest + 1);
    const feeds = gqaLengths(positions, longest + 1);
    cache.feeds(feeds, true);
    return feeds;
  }

  stepWritten(positions: Int32Array, cache: KvCache, k: Float32Array[], v: Float32Array[]): void {
    cache.writeEach(positions, k, v);
    cache.used = Math.max(cache.used, Math.max(...positions) + 1);
  }

  keepRows(): void {
    // Nothing of its own: the rows' lengths are the rows'.
  }

  compact(rows: readonly LayoutRow[], cache: KvCache): void {
    // Only the remaining rows' slots are kept when the cache next grows.
    cache.used = Math.max(...rows.map((r) => r.prompt.length + r.tokens.length - 1));
  }
}
