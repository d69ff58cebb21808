import ort from 'onnxruntime-node';
import type { ResolvedModelConfig } from '../model/config.js';
import type { NamedTensor } from '../model/params.js';
import { EMBED_TABLE_INPUT } from '../graphs/compile.js';
import { MASKED, causalMask, gqaLengths, ropeTables } from '../graphs/host-inputs.js';
import { f32, i32 } from '../runtime/session.js';
import type { Feeds } from '../runtime/session.js';

/**
 * Synthetic feeds of the generation graph (`buildGenerationGraph(..., 'decode')`) in its two forms,
 * the same values in each: the standard one (a mask over a [B, kv, 1, C, hd] cache) and the
 * GroupQueryAttention one (per-row lengths over a [B, kv, C, hd] cache). Rows have their own
 * lengths; the cache holds values in every slot, so a graph that read a slot past a row's length
 * would give other logits. Used by `bench fused-ops` and the fused-graph tests.
 */

/** The fed embedding table of the engine's baked float32 graph. */
export function embedFeed(c: ResolvedModelConfig, w: readonly NamedTensor[]): Feeds {
  const t = w.find((x) => x.name === 'model.embed_tokens.weight');
  if (t === undefined) throw new Error('weights lack model.embed_tokens.weight');
  return { [EMBED_TABLE_INPUT]: f32(t.data, [c.vocabSize, c.hiddenSize]) };
}

/** Cache contents of layer i, [B, kv, C, hd] row-major; a slot's values do not depend on C. */
function cacheData(c: ResolvedModelConfig, B: number, C: number, seed: number): Float32Array {
  const hd = c.headDim;
  const out = new Float32Array(B * c.numKvHeads * C * hd);
  for (let r = 0; r < B * c.numKvHeads; r++) for (let t = 0; t < C; t++) for (let x = 0; x < hd; x++) out[(r * C + t) * hd + x] = Math.sin(((r * 8191 + t) * hd + x) * 0.37 + seed);
  return out;
}

function pastFeeds(c: ResolvedModelConfig, B: number, C: number, gqa: boolean, feeds: Feeds): Feeds {
  const dims = gqa ? [B, c.numKvHeads, C, c.headDim] : [B, c.numKvHeads, 1, C, c.headDim];
  for (let i = 0; i < c.numLayers; i++) {
    feeds[`past_k_${i}`] = f32(cacheData(c, B, C, i), dims);
    feeds[`past_v_${i}`] = f32(cacheData(c, B, C, i + 0.5), dims);
  }
  return feeds;
}

const lengthsOr = (lens: readonly number[] | undefined, B: number, n: number): readonly number[] => {
  const l = lens ?? Array<number>(B).fill(n);
  if (l.length !== B || l.some((x) => x < 1 || x > n)) throw new Error(`row lengths [${l.join(', ')}] do not fit ${B} rows of ${n}`);
  return l;
};

/** Prefill feeds: B right-padded prompts of `lens` tokens (default all T), an empty cache; `gqa`: the GroupQueryAttention graph's. */
export function prefillFeeds(c: ResolvedModelConfig, B: number, T: number, gqa = false, lens?: readonly number[]): Feeds {
  const l = lengthsOr(lens, B, T);
  const ids = new Int32Array(B * T).map((_, k) => (k * 7919) % c.vocabSize);
  const { cos, sin } = ropeTables(c, Array.from({ length: B * T }, (_, k) => k % T));
  const pick = new Int32Array(B * c.hiddenSize);
  l.forEach((n, b) => pick.fill(n - 1, b * c.hiddenSize, (b + 1) * c.hiddenSize));
  const feeds: Feeds = { ids: i32(ids, [B, T]), cos: f32(cos, [B, T, c.headDim]), sin: f32(sin, [B, T, c.headDim]), pick: i32(pick, [B, 1, c.hiddenSize]) };
  if (gqa) return pastFeeds(c, B, 0, true, { ...feeds, ...gqaLengths(l.map((n) => n - 1), T) });
  feeds.mask = f32(causalMask(l, T), [B, 1, 1, T, T]);
  feeds.split_sizes = new ort.Tensor('int64', BigInt64Array.from([0n, BigInt(T)]), [2]);
  return pastFeeds(c, B, 0, false, feeds);
}

/** Decode feeds: one new token per row after a C-slot cache of which row b holds `lens[b]` tokens (default all C), at position lens[b]. */
export function decodeFeeds(c: ResolvedModelConfig, B: number, C: number, gqa = false, lens?: readonly number[]): Feeds {
  const l = lengthsOr(lens, B, C);
  const { cos, sin } = ropeTables(c, l);
  const feeds: Feeds = {
    ids: i32(new Int32Array(B).map((_, b) => 11 + b), [B, 1]), cos: f32(cos, [B, 1, c.headDim]), sin: f32(sin, [B, 1, c.headDim]),
    pick: i32(new Int32Array(B * c.hiddenSize), [B, 1, c.hiddenSize]),
  };
  if (gqa) return pastFeeds(c, B, C, true, { ...feeds, ...gqaLengths(l, Math.max(...l) + 1) });
  const mask = new Float32Array(B * (C + 1)).fill(MASKED);
  l.forEach((n, b) => {
    mask.fill(0, b * (C + 1), b * (C + 1) + n);
    mask[b * (C + 1) + C] = 0;
  });
  feeds.mask = f32(mask, [B, 1, 1, 1, C + 1]);
  feeds.split_sizes = new ort.Tensor('int64', BigInt64Array.from([BigInt(C), 1n]), [2]);
  return pastFeeds(c, B, C, false, feeds);
}

/** Fetches that bind each layer's present cache to its past input: the kernel writes the new slots into the fed buffers. */
export function inPlaceFetches(feeds: Feeds, layers: number): Record<string, ort.Tensor | null> {
  const f: Record<string, ort.Tensor | null> = { logits: null };
  for (let i = 0; i < layers; i++) {
    f[`present_k_${i}`] = feeds[`past_k_${i}`] ?? null;
    f[`present_v_${i}`] = feeds[`past_v_${i}`] ?? null;
  }
  return f;
}
