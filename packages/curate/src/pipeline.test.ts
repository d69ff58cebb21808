import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodeVerifier } from '@acereason/verify-code';
import { curate } from './pipeline.js';
import { formatReport } from './report.js';
import { InMemoryPassRateSink, type ResponseSampler } from './steps/difficulty.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

function removals(report: Awaited<ReturnType<typeof curate>>['report']): Record<string, string> {
  return Object.fromEntries(report.removed.map((r) => [r.id, `${r.step}:${r.reason}`]));
}

test('math fixture: removes exactly the planted rows and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'curate-'));
  try {
    const out = join(dir, 'clean.jsonl');
    const { report } = await curate({ domain: 'math', input: fixture('math-raw.jsonl'), output: out, benchmarks: [fixture('math-bench.jsonl')] });
    assert.deepEqual(removals(report), {
      'dup-exact': 'dedup_exact:exact_duplicate',
      'dup-near': 'dedup_near:near_duplicate',
      'dup-rect': 'dedup_near:near_duplicate',
      'dup-divisors': 'dedup_near:near_duplicate',
      contaminated: 'decontaminate:benchmark_overlap',
      'bad-answer': 'filter:unparseable_answer',
      mcq: 'filter:multiple_choice',
      truefalse: 'filter:true_false',
      proof: 'filter:proof',
      multipart: 'filter:multi_part',
      figure: 'filter:figure',
      nonenglish: 'filter:non_english',
      short: 'filter:too_short',
    });
    assert.deepEqual(report.errors.map((e) => e.line), [8, 9]);
    assert.match(report.errors[0]?.message ?? '', /not valid JSON/);
    assert.match(report.errors[1]?.message ?? '', /missing "answer"/);
    const contaminated = report.removed.find((r) => r.id === 'contaminated');
    assert.equal(contaminated?.matched, 'math-bench.jsonl#aime-2024-1');
    assert.equal(report.removed.find((r) => r.id === 'dup-near')?.matched, 'math-raw-2');
    // Paraphrases that drop or insert function words, change case or punctuation.
    assert.equal(report.removed.find((r) => r.id === 'dup-rect')?.matched, 'ok-rect');
    assert.equal(report.removed.find((r) => r.id === 'dup-divisors')?.matched, 'math-raw-3');
    assert.deepEqual(report.steps.find((x) => x.step === 'dedup_near')?.settings?.threshold, 0.7);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; answer: string });
    assert.deepEqual(rows.map((r) => [r.id, r.answer]), [['ok-plain', '180'], ['math-raw-2', '13'], ['math-raw-3', '56'], ['math-raw-4', '41'], ['ok-rect', '54'], ['ok-rect-7', '56']]);
    assert.equal(report.rowsIn, 21);
    assert.equal(report.rowsOut, 6);
    const last = report.steps.at(-1);
    assert.equal(last?.out, 6);
    for (const s of report.steps) assert.equal(s.in - s.removed, s.out);
    const table = formatReport(report);
    assert.match(table, /dedup_near/);
    assert.match(table, /settings: threshold=0\.7 /);
    assert.match(table, /line 8: not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('code fixture: formats, dedup, decontamination, filters and reference solutions in the sandbox', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'curate-'));
  await using verifier = new CodeVerifier({ concurrency: 2 });
  try {
    const out = join(dir, 'clean.jsonl');
    const { report } = await curate({ domain: 'code', input: fixture('code-raw.jsonl'), output: out, benchmarks: [fixture('code-bench.jsonl')], codeVerifier: verifier });
    assert.deepEqual(removals(report), {
      'dup-exact': 'dedup_exact:exact_duplicate',
      'dup-near': 'dedup_near:near_duplicate',
      contaminated: 'decontaminate:benchmark_overlap',
      'failing-ref': 'reference_check:reference_fails',
      'few-tests': 'filter:too_few_tests',
      'special-judge': 'filter:special_judge',
    });
    assert.equal(report.removed.find((r) => r.id === 'contaminated')?.matched, 'code-bench.jsonl#lcb-32');
    assert.deepEqual(report.errors.map((e) => e.line), [8, 9]);
    assert.match(report.errors[1]?.message ?? '', /2 inputs but 1 outputs/);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; tests: { fn_name?: string; inputs: unknown[] }; time_limit_s?: number });
    assert.deepEqual(rows.map((r) => r.id), ['ok-ours', 'ok-taco', 'ok-lcb', 'ok-cc']);
    assert.equal(rows[2]?.tests.fn_name, 'arraySum');
    assert.equal(rows[2]?.tests.inputs.length, 5);
    assert.equal(rows[3]?.time_limit_s, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('difficulty step: pass_rate in the output rows, the report and the sink', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'curate-'));
  try {
    const out = join(dir, 'clean.jsonl');
    const sink = new InMemoryPassRateSink();
    // Right on every sample for the first kept row, wrong on the others.
    const sampler: ResponseSampler = { sample: (rows, k) => Promise.resolve(rows.map((r, i) => Array.from({ length: k }, () => (i === 0 && r.domain === 'math' ? `\\boxed{${r.answer}}` : 'no idea')))) };
    const { report } = await curate({ domain: 'math', input: fixture('math-raw.jsonl'), output: out, difficulty: { k: 3, minPass: 0, maxPass: 0.5, sampler, sink } });
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; pass_rate: number });
    assert.ok(rows.every((r) => r.pass_rate === 0));
    assert.equal(report.passRates?.['ok-plain'], 1);
    assert.deepEqual(report.removed.find((r) => r.step === 'difficulty'), { id: 'ok-plain', line: 1, step: 'difficulty', reason: 'too_easy', detail: 'pass rate 3/3 outside [0, 0.5]' });
    assert.deepEqual(sink.rates.get('ok-plain'), { attempts: 3, passes: 3 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
