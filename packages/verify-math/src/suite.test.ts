import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AceReasonError } from '@acereason/protocol';
import { loadSymbolicBackend } from './compare/symbolic.js';
import { readSuite, runSuite } from './suite.js';

const suites = fileURLToPath(new URL('../suites/', import.meta.url));

describe('agreement suites', () => {
  it('accepts nothing on the near-miss suite (boxed and with fallbacks)', async () => {
    await loadSymbolicBackend();
    const cases = readSuite(join(suites, 'near-miss.jsonl'));
    assert.ok(cases.length >= 100, `only ${cases.length} near-miss cases`);
    assert.ok(cases.every((c) => !c.expected));
    const r = runSuite(cases);
    assert.deepEqual(r.misses, [], 'a near miss was accepted');
    assert.equal(r.all.false_positives, 0);
  });

  it('agrees with the Math-Verify suite on at least 95% of the cases whose expectation is not arguable', async () => {
    await loadSymbolicBackend();
    const cases = readSuite(join(suites, 'math-verify.jsonl'));
    assert.ok(cases.length >= 250);
    const r = runSuite(cases);
    assert.ok(r.not_arguable.agreement >= 0.95, `agreement ${r.not_arguable.agreement}: ${JSON.stringify(r.misses.filter((m) => !m.arguable))}`);
    assert.equal(r.not_arguable.false_positives, 0, 'a false positive on a case that is not arguable');
  });

  it('names the file and line of a bad suite line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'suite-'));
    const f = join(dir, 's.jsonl');
    writeFileSync(f, '{"response": "\\\\boxed{1}", "answer": "1", "expected": true}\n\n{"response": "x", "answer": 2, "expected": true}\n');
    assert.throws(
      () => readSuite(f),
      (e: unknown) => e instanceof AceReasonError && e.code === 'INVALID' && e.field === `${f}:3.answer`,
    );
    writeFileSync(f, 'not json\n');
    assert.throws(() => readSuite(f), (e: unknown) => e instanceof AceReasonError && e.field === `${f}:1`);
  });
});
