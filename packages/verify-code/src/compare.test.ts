import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalDecimal, compareJson, compareOutput, tokensEqual } from './compare.js';

describe('compareOutput', () => {
  it('ignores whitespace per line and per token, and trailing blank lines', () => {
    assert.deepEqual(compareOutput('1 2\n3\n', '  1   2 \r\n3\n\n\n'), { ok: true });
    assert.equal(compareOutput('1 2\n3', '1\n2 3').ok, false);
  });
  it('does not lower-case', () => {
    assert.equal(compareOutput('YES', 'yes').ok, false);
    assert.equal(compareOutput('YES', 'YES').ok, true);
  });
  it('compares numbers as decimals, floats within tolerance only where expected is a float', () => {
    assert.equal(tokensEqual('1', '1.0', 1e-6), true);
    assert.equal(tokensEqual('100', '1e2', 1e-6), true);
    assert.equal(tokensEqual('3', '3.0000001', 1e-6), false);
    assert.equal(tokensEqual('3.0', '3.0000001', 1e-6), true);
    assert.equal(tokensEqual('0.333333', '0.3333333333', 1e-6), true);
    assert.equal(tokensEqual('0.5', '0.6', 1e-6), false);
    assert.equal(tokensEqual('abc', 'abd', 1e-6), false);
    assert.equal(tokensEqual('12345678901234567890', '12345678901234567891', 1e-6), false);
  });
  it('canonicalises decimals', () => {
    assert.equal(canonicalDecimal('007.500'), '75e-1');
    assert.equal(canonicalDecimal('-0.0'), '0');
    assert.equal(canonicalDecimal('1e3'), '1e3');
    assert.equal(canonicalDecimal('x1'), null);
    assert.equal(canonicalDecimal('.'), null);
  });
  it('reports empty versus non-empty output', () => {
    assert.equal(compareOutput('5', '').ok, false);
    assert.equal(compareOutput('', '\n').ok, true);
  });
});

describe('compareJson', () => {
  it('compares structure exactly and floats within tolerance', () => {
    assert.equal(compareJson([1, [2, 3]], [1, [2, 3]]), true);
    assert.equal(compareJson([1, 2], [2, 1]), false);
    assert.equal(compareJson(1, 1.0000001), false);
    assert.equal(compareJson(0.5, 0.5000000001), true);
    assert.equal(compareJson({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(compareJson('1', 1), false);
    assert.equal(compareJson(null, null), true);
    assert.equal(compareJson(true, 1), false);
  });
});
