import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_ALPHABET } from '@acereason/policy';
import { CodeVerifier } from '@acereason/verify-code';
import { answerParse } from '../steps/math-filters.js';
import { DEMO_CODE_FAMILIES, generateDemoCode } from './code.js';
import { generateDemoMath } from './math.js';
import { writeDemoSplits } from './write.js';

/** Evaluates + - * and parentheses on integers (what the generators write). */
function evaluate(expr: string): number {
  let i = 0;
  const peek = (): string => expr[i] ?? '';
  const atom = (): number => {
    if (peek() === '(') {
      i++;
      const v = sum();
      i++;
      return v;
    }
    const m = /^\d+/.exec(expr.slice(i));
    if (!m) throw new Error(`bad expression at ${i}: ${expr}`);
    i += m[0].length;
    return Number(m[0]);
  };
  const product = (): number => {
    let v = atom();
    while (peek() === '*') {
      i++;
      v *= atom();
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') {
      const op = expr[i++];
      const r = product();
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  return sum();
}

test('demo math: alphabet, integer answers that are right, more steps at higher difficulty', () => {
  const alphabet = new Set(DEMO_ALPHABET);
  const meanOps: number[] = [];
  for (let d = 1; d <= 8; d++) {
    const rows = generateDemoMath({ n: 60, seed: 5, difficulty: d });
    assert.equal(rows.length, 60);
    let ops = 0;
    for (const r of rows) {
      for (const ch of r.problem) assert.ok(alphabet.has(ch), `"${ch}" is not in the demo alphabet: ${r.problem}`);
      assert.match(r.answer, /^-?\d+$/);
      assert.ok(answerParse(r.answer).ok);
      const expr = /^what is (.+)\?$/.exec(r.problem);
      if (expr?.[1] !== undefined) assert.equal(evaluate(expr[1]), Number(r.answer), r.problem);
      const eq = /^solve for x: (.+)=(-?\d+)\. what is x\?$/.exec(r.problem);
      if (eq?.[1] !== undefined) assert.equal(evaluate(eq[1].replaceAll('x', `(${r.answer})`).replace(/\((-\d+)\)/g, '(0$1)')), Number(eq[2]), r.problem);
      ops += (r.problem.match(/[+*-]|more\.|away|doubles|triples|piles/g) ?? []).length;
    }
    meanOps.push(ops / rows.length);
  }
  for (let d = 1; d < meanOps.length; d++) assert.ok((meanOps[d] ?? 0) > (meanOps[d - 1] ?? 0), `difficulty ${d + 1} is not longer: ${meanOps.join(', ')}`);
  assert.deepEqual(generateDemoMath({ n: 5, seed: 9, difficulty: 3 }), generateDemoMath({ n: 5, seed: 9, difficulty: 3 }));
  assert.throws(() => generateDemoMath({ n: 1, seed: 1, difficulty: 9 }), RangeError);
});

test('demo code: both styles, >= 5 tests, reference solutions pass in the sandbox', async () => {
  const rows = generateDemoCode({ n: DEMO_CODE_FAMILIES.length, seed: 11 });
  assert.ok(rows.some((r) => r.tests.fn_name !== undefined));
  assert.ok(rows.some((r) => r.tests.fn_name === undefined));
  await using verifier = new CodeVerifier({ concurrency: 2 });
  const verdicts = await Promise.all(rows.map(async (r) => {
    assert.ok(r.tests.inputs.length >= 5);
    const tests = { inputs: r.tests.inputs, outputs: r.tests.outputs, ...(r.tests.fn_name !== undefined ? { fnName: r.tests.fn_name } : {}) };
    return { r, v: await verifier.verify({ code: r.solution, language: 'python', tests }) };
  }));
  for (const { r, v } of verdicts) assert.ok(v.passed, `${r.family} (${r.problem}): ${v.status} ${v.reason}`);
  // A wrong program fails the same tests: they do test something.
  const first = rows[0];
  assert.ok(first !== undefined);
  const wrong = await verifier.verify({ code: 'print(0)\n', language: 'python', tests: { inputs: first.tests.inputs, outputs: first.tests.outputs } });
  assert.equal(wrong.passed, false);
});

test('demo splits: train and held-out eval files in the learner schema, disjoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'curate-demo-'));
  try {
    const { files } = writeDemoSplits({ outDir: dir, seed: 2, mathTrain: 120, mathEval: 30, codeTrain: 24, codeEval: 8 });
    const read = (p: string): { id: string; problem: string; answer?: string; tests?: { inputs: unknown[]; outputs: unknown[] } }[] => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as never);
    const mt = read(files.mathTrain.path);
    const me = read(files.mathEval.path);
    const ct = read(files.codeTrain.path);
    const ce = read(files.codeEval.path);
    assert.deepEqual([mt.length, me.length, ct.length, ce.length], [120, 30, 24, 8]);
    for (const r of [...mt, ...me]) assert.ok(typeof r.id === 'string' && typeof r.problem === 'string' && typeof r.answer === 'string');
    for (const r of [...ct, ...ce]) assert.ok(r.tests !== undefined && r.tests.inputs.length === r.tests.outputs.length && r.tests.inputs.length >= 5);
    const trainText = new Set([...mt, ...ct].map((r) => r.problem));
    for (const r of [...me, ...ce]) assert.ok(!trainText.has(r.problem), `held-out problem also in train: ${r.problem}`);
    const ids = [...mt, ...me, ...ct, ...ce].map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
