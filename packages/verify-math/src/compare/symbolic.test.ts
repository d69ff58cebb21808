import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { isEquivalent } from '../verify.js';
import { loadSymbolicBackend, symbolicBackendLoaded, tooRiskyForSymbolic } from './symbolic.js';

describe('symbolic fallback (compute-engine)', () => {
  before(async () => {
    await loadSymbolicBackend();
  });

  it('decides answers the built-in parser cannot read', () => {
    assert.ok(symbolicBackendLoaded());
    assert.equal(isEquivalent('\\coth(1)\\tanh(1)', '1').status, 'correct');
    assert.equal(isEquivalent('\\csch(2)\\sinh(2)', '2').status, 'wrong');
  });

  it('never sees relations or truth values (an engine may call 0 = 0 and x = 3 both True)', () => {
    assert.equal(isEquivalent('0=0', 'y=2x+1').status, 'wrong');
    assert.equal(isEquivalent('\\top', 'x=3').status, 'wrong');
    assert.equal(isEquivalent('1 = 1', '2 = 2').status, 'wrong');
  });

  it('refuses inputs that can build giant numbers', () => {
    for (const s of ['10^{10^{10}}', '9^{9^9}', '2^{100000}', 'x^{x^x}', '5!!', '1'.repeat(50), 'x^'.repeat(10) + 'x']) assert.ok(tooRiskyForSymbolic(s), s);
    for (const s of ['2^{10}', '\\frac{\\pi}{4}', '\\coth(1)']) assert.ok(!tooRiskyForSymbolic(s), s);
  });

  it('never sees symbolic sums or products (seconds each) or prose', () => {
    for (const s of ['\\sum_{k=1}^{n} k', '\\prod_{k=1}^{n} k', 'Jane started growing it 3 hours ago']) assert.ok(tooRiskyForSymbolic(s), s);
    // Constant bounds are evaluated by the built-in parser instead.
    assert.equal(isEquivalent('\\sum_{k=1}^{10} k', '55').status, 'correct');
    assert.equal(isEquivalent('\\prod_{k=1}^{4} k', '25').status, 'wrong');
  });
});
