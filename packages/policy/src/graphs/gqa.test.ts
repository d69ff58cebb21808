import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelConfigFromHf } from '../model/hf-config.js';
import type { ResolvedModelConfig } from '../model/config.js';
import { hfPreset } from '../model/hf-presets.js';
import type { HfPreset } from '../model/hf-presets.js';
import { initWeights } from '../model/params.js';
import { outF32 } from '../runtime/session.js';
import type { Feeds, OrtSession } from '../runtime/session.js';
import { generationSession } from '../bench/fused-ops-bench.js';
import { decodeFeeds, embedFeed, inPlaceFetches, prefillFeeds } from '../bench/generation-feeds.js';

// The GroupQueryAttention generation graph against the standard one, on rows of different lengths
// in one batch: a prefill of right-padded prompts, and decode steps over a cache whose rows hold
// their tokens from slot 0 to their own lengths (every other slot holds values too, so a kernel
// that read past a row's length, or a wrong layout, gives other logits). Same logits and K/V.
const CASES: [string, HfPreset, Record<string, unknown>][] = [
  ['Qwen3 (q/k norms, rotary after the norms)', 'Qwen3-0.6B', { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32, vocab_size: 256 }],
  ['Qwen2.5 (q/k/v bias, scale folded into q_proj)', 'Qwen2.5-0.5B', { hidden_size: 96, intermediate_size: 160, num_hidden_layers: 2, num_attention_heads: 6, num_key_value_heads: 2, vocab_size: 256 }],
];

const maxDiff = (a: Float32Array, b: Float32Array): number => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let k = 0; k < a.length; k++) d = Math.max(d, Math.abs((a[k] as number) - (b[k] as number)));
  return d;
};

/** Slots [from, to) of row b of a [B, kv, S, hd] tensor, every head. */
function slots(c: ResolvedModelConfig, x: Float32Array, S: number, b: number, from: number, to: number): Float32Array {
  const hd = c.headDim;
  const out: number[] = [];
  for (let h = 0; h < c.numKvHeads; h++) out.push(...x.subarray(((b * c.numKvHeads + h) * S + from) * hd, ((b * c.numKvHeads + h) * S + to) * hd));
  return Float32Array.from(out);
}

const run = async (s: OrtSession, feeds: Feeds, fetches?: Record<string, null | import('onnxruntime-node').Tensor>): Promise<Record<string, Float32Array>> => {
  const r = fetches === undefined ? await s.run(feeds) : await s.run(feeds, fetches);
  return Object.fromEntries(Object.keys(r).map((n) => [n, outF32(r, n)]));
};

for (const [label, preset, overrides] of CASES) {
  test(`GroupQueryAttention generation graph matches the standard one on rows of different lengths: ${label}`, async () => {
    const c = modelConfigFromHf(hfPreset(preset, overrides));
    const L = c.numLayers;
    const w = initWeights(c, 5).map((t) => ({ ...t, data: t.name.includes('norm') ? t.data : t.data.map((x) => x * 10) }));
    const e = embedFeed(c, w);
    const std = await generationSession(c, w, { rotary: true });
    const gqa = await generationSession(c, w, { rotary: true, gqa: true });
    try {
      // Prefill: three right-padded prompts of 7, 4 and 1 tokens.
      const lens = [7, 4, 1];
      const T = 7;
      const a = await run(std, { ...prefillFeeds(c, 3, T, false, lens), ...e });
      const b = await run(gqa, { ...prefillFeeds(c, 3, T, true, lens), ...e });
      assert.ok(Math.max(...[...(a.logits ?? [])].map(Math.abs)) > 0.5, 'logits should be O(1)');
      assert.ok(maxDiff(a.logits as Float32Array, b.logits as Float32Array) < 1e-4, `prefill logits: ${maxDiff(a.logits as Float32Array, b.logits as Float32Array)}`);
      for (let l = 0; l < L; l++) {
        for (const kv of ['k', 'v']) {
          const got = b[`present_${kv}_${l}`] as Float32Array;
          assert.equal(got.length, 3 * c.numKvHeads * T * c.headDim, 'a prefill present is the prompt slots');
          lens.forEach((n, r) => {
            for (const [what, x] of [['present', got], ['new', b[`new_${kv}_${l}`] as Float32Array]] as const) {
              const d = maxDiff(slots(c, a[`new_${kv}_${l}`] as Float32Array, T, r, 0, n), slots(c, x, T, r, 0, n));
              assert.ok(d < 1e-4, `prefill ${what} ${kv} layer ${l} row ${r}: ${d}`);
            }
          });
        }
      }
      // Decode: rows holding 9, 5 and 2 tokens of a cache of C slots. C = 9: the longest row fills
      // the cache, so the present is one slot longer (a copy); C = 12: bound in place.
      const dl = [9, 5, 2];
      for (const C of [9, 12]) {
        const sa = await run(std, { ...decodeFeeds(c, 3, C, false, dl), ...e });
        const gf = { ...decodeFeeds(c, 3, C, true, dl), ...e };
        const before = Object.fromEntries([...Array(L).keys()].map((l) => [l, Float32Array.from(gf[`past_k_${l}`]?.data as Float32Array)]));
        const inPlace = C > Math.max(...dl);
        const withNew = Object.fromEntries([...Array(L).keys()].flatMap((l) => [[`new_k_${l}`, null], [`new_v_${l}`, null]]));
        const sb = await run(gqa, gf, inPlace ? { ...inPlaceFetches(gf, L), ...withNew } : undefined);
        const dLog = maxDiff(sa.logits as Float32Array, sb.logits as Float32Array);
        assert.ok(dLog < 1e-4, `decode C=${C} logits: ${dLog}`);
        const S = Math.max(C, Math.max(...dl) + 1);
        for (let l = 0; l < L; l++) {
          for (const kv of ['k', 'v']) {
            // In place, the fed cache itself now holds the present.
            const present = inPlace ? (gf[`past_${kv}_${l}`]?.data as Float32Array) : (sb[`present_${kv}_${l}`] as Float32Array);
            assert.equal(present.length, 3 * c.numKvHeads * S * c.headDim, `decode C=${C} present ${kv} size`);
            dl.forEach((n, r) => {
              const d = maxDiff(slots(c, sa[`new_${kv}_${l}`] as Float32Array, 1, r, 0, 1), slots(c, present, S, r, n, n + 1));
              assert.ok(d < 1e-4, `decode C=${C} present ${kv} layer ${l} row ${r} at slot ${n}: ${d}`);
            });
            const dNew = maxDiff(sa[`new_${kv}_${l}`] as Float32Array, sb[`new_${kv}_${l}`] as Float32Array);
            assert.ok(dNew < 1e-4, `decode C=${C} new ${kv} layer ${l}: ${dNew}`);
          }
          const pastK = slots(c, before[l] as Float32Array, C, 1, 0, 5);
          const kept = slots(c, inPlace ? (gf[`past_k_${l}`]?.data as Float32Array) : (sb[`present_k_${l}`] as Float32Array), S, 1, 0, 5);
          assert.equal(maxDiff(pastK, kept), 0, 'the cached slots are kept');
        }
      }
    } finally {
      await std.release();
      await gqa.release();
    }
  });
}
