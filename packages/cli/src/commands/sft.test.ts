import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { generateDemoCode, generateDemoMath, writeDemoSplits } from '@acereason/curate';
import { checkAnswer } from '@acereason/verify-math';
import { dropLastClause, stopOneStepEarly, workedMath } from './sft.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../main.js', import.meta.url));

test('worked answers are right; the teacher\'s math slip boxes the result one step early', () => {
  for (let d = 1; d <= 3; d++) {
    for (const r of generateDemoMath({ n: 40, seed: 3, difficulty: d })) {
      const worked = workedMath(r.problem, r.answer);
      assert.ok(checkAnswer(worked, r.answer).correct, `${r.problem} -> ${worked}`);
      const early = stopOneStepEarly(worked);
      assert.match(early, /\\boxed\{-?\d+\}$/);
      assert.ok(early.length < worked.length, `${worked} -> ${early}`);
    }
  }
  assert.equal(stopOneStepEarly('6+2=8,8*3=24. \\boxed{24}'), '6+2=8. \\boxed{8}');
  assert.equal(stopOneStepEarly('6+2=8. \\boxed{8}'), '\\boxed{6}');
  assert.equal(stopOneStepEarly('-4+5=1. \\boxed{1}'), '\\boxed{-4}');
  assert.equal(stopOneStepEarly('no steps'), 'no steps');
});

test('the teacher\'s code slip drops a trailing "plus c" or "modulo m", and nothing else', () => {
  assert.equal(dropLastClause('n = int(input())\nprint(3 * sum(range(1, n + 1)) + 7)\n'), 'n = int(input())\nprint(3 * sum(range(1, n + 1)))\n');
  assert.equal(dropLastClause('def fib_mod(n):\n    a, b = 0, 1\n    return a % 13\n'), 'def fib_mod(n):\n    a, b = 0, 1\n    return a\n');
  const unchanged = 'def bigger(a, b):\n    return max(a, b)\n';
  assert.equal(dropLastClause(unchanged), unchanged);
  // Across the generated families, a slip changes the program or leaves it exactly as it was.
  const changed = new Set<string>();
  for (const r of generateDemoCode({ n: 80, seed: 4 })) if (dropLastClause(r.solution) !== r.solution) changed.add(r.family);
  assert.deepEqual([...changed].sort(), ['fib-call', 'linear-stdin', 'list-stdin', 'sum-to-n-stdin']);
});

test('acereason sft is deterministic: the same flags give the same bytes; bad flags name the flag', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-sft-test-'));
  try {
    const a = join(dir, 'a.safetensors');
    const b = join(dir, 'b.safetensors');
    const c = join(dir, 'c.safetensors');
    await run(process.execPath, [BIN, 'sft', '--out', a, '--steps', '3'], { timeout: 120_000 });
    await run(process.execPath, [BIN, 'sft', '--out', b, '--steps', '3'], { timeout: 120_000 });
    await run(process.execPath, [BIN, 'sft', '--out', c, '--steps', '3', '--seed', '2'], { timeout: 120_000 });
    assert.ok(readFileSync(a).equals(readFileSync(b)), 'two runs with the same flags differ');
    assert.ok(!readFileSync(a).equals(readFileSync(c)), 'another seed gave the same weights');
    await assert.rejects(run(process.execPath, [BIN, 'sft', '--out', a, '--stop-early', '2']), (e: { stderr: string }) => /--stop-early/.test(e.stderr));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('acereason sft --data names a bad row by file and line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-sft-test-'));
  try {
    writeDemoSplits({ outDir: dir, seed: 1, mathTrain: 20, mathEval: 5, codeTrain: 8, codeEval: 2 });
    const file = join(dir, 'math-train.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = '{"problem": "what is 1+1?", "answer": 2}';
    writeFileSync(file, lines.join('\n'));
    await assert.rejects(run(process.execPath, [BIN, 'sft', '--out', join(dir, 'o.safetensors'), '--data', dir, '--steps', '1']), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, /math-train\.jsonl:3: "answer" must be a string/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
