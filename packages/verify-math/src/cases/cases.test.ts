import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CASES } from './index.js';
import { runCase } from './run-case.js';

describe('verification cases by category', () => {
  let total = 0;
  for (const [category, cases] of Object.entries(CASES)) {
    total += cases.length;
    describe(category, () => {
      for (const c of cases) {
        const label = c.response !== undefined ? c.response.slice(0, 60) : `${c.pred ?? ''} vs ${c.gold}`;
        it(`${label.length > 70 ? label.slice(0, 70) + '...' : label} -> ${c.expect}: ${c.why}`, () => {
          const out = runCase(c);
          if (c.known !== undefined) {
            assert.equal(out.pass, false, `known limitation now passes, remove the mark: ${c.known}`);
            return;
          }
          assert.ok(out.pass, out.problem ?? '');
        });
      }
    });
  }
  it('has at least 300 cases, each with a reason', () => {
    assert.ok(total >= 300, `only ${total} cases`);
    for (const cases of Object.values(CASES)) for (const c of cases) assert.ok(c.why.length >= 8, `no reason for ${c.pred ?? c.response ?? ""}`);
  });
});
