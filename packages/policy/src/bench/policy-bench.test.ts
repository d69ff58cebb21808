import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchPolicy } from './policy-bench.js';

test('quick benchmark runs without PyTorch and reports figures', { timeout: 120000 }, async () => {
  const r = await benchPolicy({ quick: true });
  assert.equal(r.suite, 'policy');
  assert.match(String(r.pytorch), /^skipped: /);
  const ours = r.ours as { decode_tokens_per_s: Record<string, number>; train_tokens_per_s: number };
  assert.ok((ours.decode_tokens_per_s.b1 ?? 0) > 0);
  assert.ok(ours.train_tokens_per_s > 0);
});
