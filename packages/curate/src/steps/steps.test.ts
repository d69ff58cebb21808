import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ingest } from '../pipeline.js';
import { shingles, words } from '../text.js';
import type { CurateRow, MathRow } from '../types.js';
import { decontaminate, NgramIndex } from './decontaminate.js';
import { DEFAULT_DEDUP, dedupNear } from './dedup.js';
import { InMemoryPassRateSink, scoreDifficulty, type ResponseSampler } from './difficulty.js';
import { EngineSampler } from './engine-sampler.js';
import { jaccard, minhashSignature } from './minhash.js';
import { answerParse } from './math-filters.js';

const math = (id: string, problem: string, answer = '1'): MathRow => ({ domain: 'math', id, problem, answer, line: 1, hints: {} });

test('ingest: a JSON array, with element numbers for unreadable elements', () => {
  const path = fileURLToPath(new URL('../../fixtures/math-array.json', import.meta.url));
  const { rows, errors } = ingest(readFileSync(path, 'utf8'), 'math', path);
  assert.deepEqual(rows.map((r) => [r.id, r.line]), [['math-array-1', 1], ['math-array-2', 2]]);
  assert.deepEqual(errors, [{ line: 3, message: 'expected a JSON object' }]);
});

test('ingest: NuminaMath-1.5 fields and repeated ids', () => {
  const text = [
    JSON.stringify({ problem: 'Prove it.', solution: 'trivial', answer: 'proof', question_type: 'proof' }),
    JSON.stringify({ id: 7, problem: 'x', answer: 'notfound', question_type: 'math-word-problem' }),
    JSON.stringify({ id: 7, messages: [{ role: 'user', content: 'What is 2+3?' }], answer: 5 }),
  ].join('\n');
  const { rows, errors } = ingest(text, 'math', 'n.jsonl');
  assert.deepEqual(errors, []);
  const m = rows as MathRow[];
  assert.equal(m[0]?.hints.questionType, 'proof');
  assert.equal(m[1]?.answer, '');
  assert.deepEqual([m[1]?.id, m[2]?.id, m[2]?.problem, m[2]?.answer], ['7', '7~L3', 'What is 2+3?', '5']);
});

test('answerParse: maths parses, prose does not', () => {
  for (const a of ['42', '\\frac{3}{4}', '2\\sqrt{3}', '(1, 2)', 'x^2+1', '[0, 1)']) assert.ok(answerParse(a).ok, a);
  for (const a of ['', 'the answer is blue', 'Proof: by induction']) assert.equal(answerParse(a).ok, false, a);
});

test('minhash: signature agreement tracks Jaccard similarity', () => {
  const a = shingles(words('the quick brown fox jumps over the lazy dog near the river bank today and tomorrow again'), 3);
  const b = shingles(words('the quick brown fox jumps over the lazy cat near the river bank today and tomorrow again'), 3);
  const sa = minhashSignature(a, 256);
  const sb = minhashSignature(b, 256);
  let same = 0;
  for (let i = 0; i < 256; i++) if (sa[i] === sb[i]) same++;
  assert.ok(Math.abs(same / 256 - jaccard(a, b)) < 0.12, `${same / 256} vs ${jaccard(a, b)}`);
});

test('dedupNear keeps the first and names it; unrelated rows stay', () => {
  const rows: CurateRow[] = [
    math('a', 'A farmer has 17 sheep and buys 5 more sheep at the market on a sunny day. How many sheep are there?'),
    math('b', 'A farmer has 17 sheep and buys 6 more sheep at the market on a sunny day. How many sheep are there?'),
    math('c', 'Compute the derivative of sin x times cos x at the point x equals zero.'),
  ];
  const { kept, removed } = dedupNear(rows, { shingleWords: 3, threshold: 0.7, numPerm: 128, bands: 32 });
  assert.deepEqual(kept.map((r) => r.id), ['a', 'c']);
  assert.equal(removed[0]?.matched, 'a');
});

test('decontamination: n is configurable and the match names the item', () => {
  const rows = [math('r', 'find the value of the smallest positive integer n such that n cubed ends in 44')];
  const bench = { ref: 'bench#7', text: 'What is the smallest positive integer n such that n squared ends in the digits 44?' };
  const long = new NgramIndex(9);
  long.add(bench);
  assert.equal(decontaminate(rows, long).removed.length, 0);
  const short = new NgramIndex(5);
  short.add(bench);
  const { removed } = decontaminate(rows, short);
  assert.equal(removed[0]?.matched, 'bench#7');
});

test('difficulty: pass rates go to the sink and the range filter', async () => {
  const rows = [math('easy', 'what is 1+1?', '2'), math('mid', 'what is 2+2?', '4'), math('hard', 'what is 3+3?', '6')];
  const sampler: ResponseSampler = {
    sample: (rs, k) => Promise.resolve(rs.map((r) => Array.from({ length: k }, (_, i) => {
      const right = r.id === 'easy' || (r.id === 'mid' && i % 2 === 0);
      return `\\boxed{${right ? (r as MathRow).answer : '0'}}`;
    }))),
  };
  const sink = new InMemoryPassRateSink();
  const { kept, removed, passRates } = await scoreDifficulty(rows, sampler, sink, { k: 4, minPass: 0.1, maxPass: 0.9 });
  assert.deepEqual(kept.map((r) => r.id), ['mid']);
  assert.deepEqual(removed.map((r) => [r.id, r.reason]), [['easy', 'too_easy'], ['hard', 'too_hard']]);
  assert.equal(passRates.get('mid'), 0.5);
  assert.deepEqual(sink.rates.get('mid'), { attempts: 4, passes: 2 });
  assert.equal(sink.passRate('hard'), 0);
});

test('EngineSampler: k samples per prompt from the embedded demo model', async () => {
  await using sampler = await EngineSampler.create({ maxNewTokens: 6, seed: 3 });
  const out = await sampler.sample([math('p1', 'what is 1+2?'), math('p2', 'what is 2*3?')], 3);
  assert.equal(out.length, 2);
  for (const s of out) {
    assert.equal(s.length, 3);
    for (const text of s) assert.ok(text.length <= 6);
  }
});

test('ingest code: stdin tests become text; bad tests are reported with their line', () => {
  const text = [
    JSON.stringify({ id: 'lines', problem: 'p', input_output: JSON.stringify({ inputs: [['1 2', '3']], outputs: [[6]] }) }),
    JSON.stringify({ id: 'nested', problem: 'p', tests: { inputs: [{ a: 1 }], outputs: ['1'] } }),
    JSON.stringify({ id: 'empty', problem: 'p', tests: { inputs: [], outputs: [] } }),
    JSON.stringify({ id: 'call', problem: 'p', tests: { inputs: [[1, 2]], outputs: [3], fn_name: 'add' } }),
  ].join('\n');
  const { rows, errors } = ingest(text, 'code', 'c.jsonl');
  assert.deepEqual(rows.map((r) => r.id), ['lines', 'call']);
  const first = rows[0];
  assert.ok(first?.domain === 'code');
  assert.deepEqual(first.tests, { inputs: ['1 2\n3\n'], outputs: ['6\n'] });
  assert.deepEqual(errors, [{ line: 2, message: 'test input 0 must be text for a stdin/stdout problem' }, { line: 3, message: 'no tests' }]);
});

test('dedupNear: paraphrases that insert or drop function words, change case or punctuation are one problem', () => {
  const rows: CurateRow[] = [
    math('rect', 'A rectangle has a perimeter of 30 and a length of 9. What is its area?'),
    math('rect-terse', 'A rectangle has perimeter 30 and length 9. What is its area?'),
    math('rect-other', 'A rectangle has perimeter 30 and length 7. What is its area?'),
    math('div', 'find the sum of all the positive divisors of 36'),
    math('div-case', 'Find the sum of all positive divisors of 36.'),
    math('div-product', 'Find the product of all positive divisors of 36.'),
    math('least', 'How many integers n satisfy n^2 < 50 with n at least 3?'),
    math('most', 'How many integers n satisfy n^2 < 50 with n at most 3?'),
  ];
  const { kept, removed } = dedupNear(rows, DEFAULT_DEDUP);
  assert.deepEqual(removed.map((r) => [r.id, r.matched]), [['rect-terse', 'rect'], ['div-case', 'div']]);
  assert.deepEqual(kept.map((r) => r.id), ['rect', 'rect-other', 'div', 'div-product', 'least', 'most']);
  assert.match(removed[0]?.detail ?? '', /content words, threshold 0\.7/);
});

test('ingest code: function-call outputs become typed return values in every format', () => {
  const lcbCases = [
    { input: '12', output: '"12"', testtype: 'functional' },
    { input: '7', output: '7', testtype: 'functional' },
    { input: '[1, 2]', output: '[2, 1]', testtype: 'functional' },
  ];
  const text = [
    // TACO/APPS: every return value wrapped in a one-element list.
    JSON.stringify({ id: 'taco', question: 'p', input_output: JSON.stringify({ fn_name: 'f', inputs: [[1], [2]], outputs: [[[0, 1]], ['12']] }) }),
    // Not uniformly wrapped: kept as given.
    JSON.stringify({ id: 'taco-bare', question: 'p', input_output: JSON.stringify({ fn_name: 'f', inputs: [[1], [2]], outputs: [[5], 6] }) }),
    JSON.stringify({ question_id: 'lcb', question_content: 'p', public_test_cases: JSON.stringify(lcbCases), metadata: JSON.stringify({ func_name: 'g' }) }),
    JSON.stringify({ question_id: 'lcb-bad', question_content: 'p', public_test_cases: JSON.stringify([{ input: '1', output: 'not json', testtype: 'functional' }]), metadata: { func_name: 'g' } }),
    JSON.stringify({ id: 'ours', problem: 'p', tests: { inputs: [[1]], outputs: ['12'], fn_name: 'h' } }),
  ].join('\n');
  const { rows, errors } = ingest(text, 'code', 'c.jsonl');
  const outputs = Object.fromEntries(rows.map((r) => [r.id, r.domain === 'code' ? r.tests.outputs : null]));
  assert.deepEqual(outputs, { taco: [[0, 1], '12'], 'taco-bare': [[5], 6], lcb: ['12', 7, [2, 1]], ours: ['12'] });
  assert.deepEqual(errors.map((e) => e.line), [4]);
  assert.match(errors[0]?.message ?? '', /test case 0: a functional test's "output" must be the return value as JSON text/);
});
