import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelConfigFromHf } from '../model/hf-config.js';
import { hfPreset } from '../model/hf-presets.js';
import type { HfPreset } from '../model/hf-presets.js';
import { initWeights } from '../model/params.js';
import { outF32 } from '../runtime/session.js';
import type { Feeds } from '../runtime/session.js';
import { FUSED_CANDIDATES, generationSession } from '../bench/fused-ops-bench.js';
import { decodeFeeds, embedFeed, prefillFeeds } from '../bench/generation-feeds.js';

// The contrib-kernel forms of the generation graphs (SkipSimplifiedLayerNormalization,
// RotaryEmbedding) against the standard-op graphs: the same logits and new K/V on the same feeds.
const CASES: [string, HfPreset, Record<string, unknown>][] = [
  ['Qwen3 (q/k norms, rotary after the norms)', 'Qwen3-0.6B', { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32, vocab_size: 256 }],
  ['Qwen2.5 (q/k/v bias, rotary on packed q/k)', 'Qwen2.5-0.5B', { hidden_size: 96, intermediate_size: 160, num_hidden_layers: 2, num_attention_heads: 6, num_key_value_heads: 2, vocab_size: 256 }],
];

for (const [label, preset, overrides] of CASES) {
  test(`fused generation graphs match the standard ones: ${label}`, async () => {
    const c = modelConfigFromHf(hfPreset(preset, overrides));
    // Weights larger than the init's so logits are O(1) and a wrong rotation or norm shows.
    const w = initWeights(c, 5).map((t) => ({ ...t, data: t.name.includes('norm') ? t.data : t.data.map((x) => x * 10) }));
    // The engine's graph (one session prefills with an empty past and decodes).
    const feeds: Record<'prefill' | 'decode', Feeds> = { prefill: { ...prefillFeeds(c, 2, 7), ...embedFeed(c, w) }, decode: { ...decodeFeeds(c, 3, 5), ...embedFeed(c, w) } };
    const run = async (mode: 'prefill' | 'decode', fused: object): Promise<Record<string, Float32Array>> => {
      const s = await generationSession(c, w, fused);
      try {
        const r = await s.run(feeds[mode]);
        return Object.fromEntries(s.outputNames.map((n) => [n, outF32(r, n)]));
      } finally {
        await s.release();
      }
    };
    for (const mode of ['prefill', 'decode'] as const) {
      const ref = await run(mode, {});
      assert.ok(Math.max(...[...(ref.logits ?? [])].map(Math.abs)) > 0.5, 'logits should be O(1)');
      for (const [name, fused] of Object.entries(FUSED_CANDIDATES)) {
        const got = await run(mode, fused);
        for (const [out, a] of Object.entries(ref)) {
          const b = got[out];
          assert.ok(b !== undefined && b.length === a.length, `${name} ${mode}: output ${out}`);
          let d = 0;
          for (let k = 0; k < a.length; k++) d = Math.max(d, Math.abs((a[k] as number) - (b[k] as number)));
          assert.ok(d < 1e-4, `${name} ${mode} ${out}: max |diff| ${d}`);
        }
      }
    }
  });
}
