import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@acereason/protocol';
import { benchOptimizer } from './optimizer-bench.js';

test('bench optimizer --quick times our norm + clipping + AdamW step and PyTorch\'s (foreach and for-loop) in their own processes', { timeout: 120000 }, async () => {
  const r = await benchOptimizer({ quick: true, threads: 1 });
  assert.equal(r.suite, 'optimizer');
  const ours = r.ours as Record<string, { median: number }>;
  for (const side of [ours, r.torch_foreach, r.torch_for_loop] as Record<string, { median: number }>[]) {
    for (const k of ['step_s', 'norm_clip_s', 'adamw_s']) assert.ok((side[k]?.median ?? 0) > 0, `${k}: ${JSON.stringify(side)}`);
  }
  assert.ok(r.ratios.step_seconds_torch_over_ours! > 0);
  assert.match(String(r.torch_baseline), /^(foreach|for_loop)$/);
});

test('bench optimizer refuses a depth beyond the model before any work', async () => {
  await assert.rejects(benchOptimizer({ layers: 29 }), (e: unknown) => e instanceof ValidationError && e.message.startsWith('--layers'));
});
