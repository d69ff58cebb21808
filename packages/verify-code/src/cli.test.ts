import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { runVerifyCodeCli } from './cli.js';

async function runCli(lines: string[]): Promise<{ result: { lines: number; ok: number; bad: number }; out: unknown[] }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.setEncoding('utf8');
  output.on('data', (s: string) => (text += s));
  input.end(lines.join('\n') + '\n');
  const result = await runVerifyCodeCli({ input, output, concurrency: 2 });
  return { result, out: text.trim().split('\n').map((l) => JSON.parse(l) as unknown) };
}

describe('acereason verify code', () => {
  it('reads JSON lines and writes verdicts in input order; bad lines become error lines', async () => {
    const { result, out } = await runCli([
      JSON.stringify({ id: 'a', response: '</think>\n```python\nprint(int(input()) * 2)\n```', language: 'python', tests: { inputs: ['2'], outputs: ['4'] } }),
      'not json',
      JSON.stringify({ id: 'b', code: 'print(1)', tests: { inputs: ['2', '3'], outputs: ['1', '2'] }, time_limit_s: 1, memory_mb: 256 }),
      JSON.stringify({ id: 'c', code: 'class Solution:\n    def f(self, x):\n        return x + 1\n', tests: { inputs: ['1'], outputs: [2], fn_name: 'f' } }),
      JSON.stringify({ id: 'd', tests: { inputs: ['1'], outputs: ['1'] } }),
      JSON.stringify({ id: 'e', code: 'print(1)', tests: { inputs: ['1'], outputs: [] } }),
      '',
      JSON.stringify({ id: 'f', response: 'no code', tests: { inputs: ['1'], outputs: ['1'] } }),
      JSON.stringify({ id: 'g', code: 'print(1)', tests: { inputs: ['1'], outputs: ['1'] }, time_limit_s: -1 }),
    ]);
    assert.deepEqual(result, { lines: 8, ok: 4, bad: 4 });
    assert.deepEqual(out[0], { id: 'a', passed: true, status: 'accepted', tests_passed: 1, tests_total: 1, reason: 'passed 1/1' });
    assert.deepEqual(out[1], { line: 2, error: 'not valid JSON' });
    assert.deepEqual(out[2], {
      id: 'b',
      passed: false,
      status: 'wrong_answer',
      tests_passed: 1,
      tests_total: 2,
      first_failed_test: 1,
      reason: 'test 1: line 1 token 1: expected 2, got 1',
    });
    assert.equal((out[3] as { status: string }).status, 'accepted');
    assert.match((out[4] as { error: string }).error, /response or code/);
    assert.deepEqual(out[5], { line: 6, error: 'tests.outputs: has 0 entries for 1 inputs' });
    assert.equal((out[6] as { status: string }).status, 'no_code');
    assert.deepEqual(out[7], { line: 9, error: 'time_limit_s: must be a positive number' });
  });
});
