import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@acereason/protocol';
import { benchFusedOps } from './fused-ops-bench.js';

test('bench fused-ops --quick --candidates gqa: every figure paired with the rotary graph, logits equal; an unknown candidate is refused naming the field', async () => {
  const r = await benchFusedOps({ quick: true, candidates: ['gqa'] });
  const g = r.gqa as { max_abs_logit_diff: number; tokens_per_cpu_s: Record<string, { ratio: { median: number } }>; baseline: object };
  assert.deepEqual(g.baseline, { rotary: true });
  assert.ok(g.max_abs_logit_diff < 1e-4, `logit diff ${g.max_abs_logit_diff}`);
  const figs = ['prefill', 'decode_b1', 'decode_b8', 'prefill_1k', 'decode_b1_2k', 'decode_b8_2k', 'decode_b8_mixed_2k'];
  assert.deepEqual(Object.keys(g.tokens_per_cpu_s), figs);
  assert.deepEqual(Object.keys(r.ratios), figs.map((f) => `gqa_${f}`));
  for (const f of figs) assert.ok((g.tokens_per_cpu_s[f]?.ratio.median ?? 0) > 0, f);
  assert.equal(r.rotary, undefined, 'only the named candidates run');
  await assert.rejects(benchFusedOps({ quick: true, candidates: ['flash'] }), (e: unknown) => e instanceof ValidationError && /candidates/.test(e.message));
});
