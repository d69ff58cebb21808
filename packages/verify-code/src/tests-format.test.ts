import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@acereason/protocol';
import { prepareTests } from './tests-format.js';

describe('prepareTests', () => {
  it('keeps stdin tests as text', () => {
    assert.deepEqual(prepareTests({ inputs: ['1 2'], outputs: ['3'] }), [{ mode: 'stdin', input: '1 2', expected: '3' }]);
  });
  it('reads function-call arguments as an array or as JSON lines', () => {
    const t = prepareTests({ inputs: [[[1, 2], 3], '[1, 2]\n3'], outputs: [[0, 1], [0, 1]], fnName: 'twoSum' });
    assert.deepEqual(t, [
      { mode: 'call', input: '[[1,2],3]', expected: [0, 1] },
      { mode: 'call', input: '[[1,2],3]', expected: [0, 1] },
    ]);
    assert.deepEqual(prepareTests({ inputs: ['"ab"'], outputs: ['ba'], fnName: 'f' })[0]?.expected, 'ba');
  });
  it('keeps function-call expectations typed: a string holding JSON stays a string', () => {
    const t = prepareTests({ inputs: [[1], [2], [3], [4]], outputs: ['12', 12, '[0, 1]', null], fnName: 'f' });
    assert.deepEqual(t.map((x) => x.expected), ['12', 12, '[0, 1]', null]);
    assert.throws(() => prepareTests({ inputs: [[1]], outputs: [Number.NaN], fnName: 'f' }), (e: unknown) => e instanceof ValidationError && e.field === 'tests.outputs[0]');
  });
  it('names the offending field', () => {
    assert.throws(() => prepareTests({ inputs: ['1'], outputs: [] }), (e: unknown) => e instanceof ValidationError && e.field === 'tests.outputs');
    assert.throws(() => prepareTests({ inputs: [], outputs: [] }), ValidationError);
    assert.throws(() => prepareTests({ inputs: ['{'], outputs: ['1'], fnName: 'f' }), (e: unknown) => e instanceof ValidationError && e.field === 'tests.inputs[0]');
    assert.throws(() => prepareTests({ inputs: [1], outputs: ['1'] }), ValidationError);
    assert.throws(() => prepareTests({ inputs: ['[]'], outputs: ['1'], fnName: 'os.system' }), ValidationError);
  });
});
