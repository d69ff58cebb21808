import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { benchVerifyCode } from './bench.js';

describe('benchVerifyCode (quick smoke)', () => {
  it('prints the report shape with both sides judged correct', async () => {
    const r = await benchVerifyCode({ quick: true });
    assert.equal(r.suite, 'verify-code');
    assert.equal(r['rounds'], 5, 'the sides alternate for 5 rounds');
    assert.equal(typeof r.ratios['throughput_vs_bare'], 'number');
    for (const w of ['trivial', 'cpu']) {
      const figures = r[w] as { ours: { accepted: number; submissions_per_s: { min: number; median: number; max: number } }; bare: { accepted: number }; ratio: { min: number; median: number; max: number }; overhead_per_test_ms: { median: number } };
      assert.equal(figures.ours.accepted, r['submissions']);
      assert.equal(figures.bare.accepted, r['submissions']);
      assert.ok(figures.ours.submissions_per_s.min > 0 && figures.ours.submissions_per_s.min <= figures.ours.submissions_per_s.max);
      assert.ok(figures.ratio.min <= figures.ratio.median && figures.ratio.median <= figures.ratio.max);
      assert.equal(r.ratios[`throughput_vs_bare_${w}`], figures.ratio.median);
      assert.equal(typeof figures.overhead_per_test_ms.median, 'number');
    }
    assert.doesNotThrow(() => JSON.stringify(r));
  });
});
