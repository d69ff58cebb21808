import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { benchVerifyCode } from './bench.js';

describe('benchVerifyCode (quick smoke)', () => {
  it('prints the report shape with both sides judged correct', async () => {
    const r = await benchVerifyCode({ quick: true });
    assert.equal(r.suite, 'verify-code');
    assert.equal(typeof r.ratios['throughput_vs_bare'], 'number');
    for (const w of ['trivial', 'cpu']) {
      const figures = r[w] as { ours: { accepted: number; tests_per_s: number }; bare: { accepted: number }; overhead_per_test_ms: { median: number } };
      assert.equal(figures.ours.accepted, r['submissions']);
      assert.equal(figures.bare.accepted, r['submissions']);
      assert.ok(figures.ours.tests_per_s > 0);
      assert.equal(typeof figures.overhead_per_test_ms.median, 'number');
    }
    assert.doesNotThrow(() => JSON.stringify(r));
  });
});
