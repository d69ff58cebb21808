import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { runVerifyMathCli } from './cli.js';

async function run(lines: string[]): Promise<{ out: Record<string, unknown>[]; summary: Awaited<ReturnType<typeof runVerifyMathCli>> }> {
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: string[] = [];
  output.on('data', (b: Buffer) => chunks.push(b.toString()));
  input.end(lines.join('\n') + '\n');
  const summary = await runVerifyMathCli({ input, output, workers: 1, timeoutMs: 10_000 });
  const out = chunks
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { out, summary };
}

describe('runVerifyMathCli', () => {
  it('writes one result per line, in input order, and keeps going after bad lines', async () => {
    const { out, summary } = await run([
      JSON.stringify({ id: 'a', response: '<think>x</think>\\boxed{\\frac12}', answer: '0.5' }),
      '{not json',
      JSON.stringify({ id: 'b', answer: '3' }),
      '',
      JSON.stringify({ id: 7, response: '\\boxed{4}', answer: '5' }),
      JSON.stringify({ id: 'c', response: 'the answer is 5', answer: '5' }),
      '[1,2]',
    ]);
    assert.deepEqual(summary, { lines: 7, ok: 3, bad: 3 });
    assert.equal(out.length, 6);
    assert.deepEqual(out[0], { id: 'a', correct: true, status: 'correct', extracted: '\\frac12', reason: out[0]?.['reason'] });
    assert.equal(out[1]?.['line'], 2);
    assert.match(String(out[1]?.['error']), /JSON/);
    assert.equal(out[2]?.['line'], 3);
    assert.equal(out[2]?.['id'], 'b');
    assert.match(String(out[2]?.['error']), /response/);
    assert.equal(out[3]?.['id'], 7);
    assert.equal(out[3]?.['status'], 'wrong');
    assert.equal(out[4]?.['status'], 'no_answer');
    assert.equal(out[4]?.['extracted'], null);
    assert.equal(out[5]?.['line'], 7);
  });

  it('handles many lines with bounded work in flight, order preserved', async () => {
    const lines = Array.from({ length: 600 }, (_, k) => JSON.stringify({ id: k, response: `\\boxed{${k}}`, answer: String(k % 2 === 0 ? k : k + 1) }));
    const { out, summary } = await run(lines);
    assert.equal(summary.ok, 600);
    out.forEach((o, k) => {
      assert.equal(o['id'], k);
      assert.equal(o['correct'], k % 2 === 0);
    });
  });
});
