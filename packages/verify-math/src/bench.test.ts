import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchVerifyMath } from './bench.js';

describe('benchVerifyMath (quick smoke run)', () => {
  it('returns one JSON report with figures and ratios', async () => {
    const r = await benchVerifyMath({ quick: true });
    const round = JSON.parse(JSON.stringify(r)) as typeof r;
    assert.equal(round.suite, 'verify-math');
    assert.ok(typeof round.ratios['vs_paper_per_process'] === 'number' && round.ratios['vs_paper_per_process'] > 0);
    const one = round['one_core'] as { verifications_per_s: number; p50_ms: number; p99_ms: number; slowest: { kind: string; median_ms: number } };
    assert.ok(one.verifications_per_s > 0 && one.p50_ms >= 0 && one.p99_ms >= one.p50_ms);
    assert.ok(one.slowest.kind.length > 0 && one.slowest.median_ms >= 0);
  });
});
