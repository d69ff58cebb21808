import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { tempDir } from '@acereason/testkit';
import { mathScorer } from '@acereason/verifier';
import { checkableReference } from '@acereason/learner';
import { UsageError } from '../command.js';
import { evaluate } from '../commands/eval.js';
import { readEvalData } from './eval-data.js';

const rows = (xs: object[]): string => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';

test('eval --decimal-comma: math answers are read with a decimal comma by the math verifier; code rows are refused naming the line, before any model loads', async () => {
  await using dir = await tempDir();
  const math = join(dir.path, 'comma.jsonl');
  writeFileSync(math, rows([{ id: 'a', problem: 'half of 7', answer: '3,5' }, { id: 'b', problem: 'x', answer: '1.000,25' }]));
  const scorer = mathScorer();
  try {
    const verdicts = async (decimalComma: boolean): Promise<boolean[]> => {
      const [a, b] = await readEvalData(math, { limit: Infinity, decimalComma });
      return Promise.all([
        scorer.score('so \\boxed{3.5}', checkableReference(a as NonNullable<typeof a>)),
        scorer.score('\\boxed{1000.25}', checkableReference(b as NonNullable<typeof b>)),
      ].map(async (v) => (await v).correct));
    };
    assert.deepEqual(await verdicts(true), [true, true]);
    assert.deepEqual(await verdicts(false), [false, false], 'without the flag 3,5 is two numbers and 1.000,25 is not 1000.25');
  } finally {
    await scorer.close();
  }

  const mixed = join(dir.path, 'mixed.jsonl');
  writeFileSync(mixed, rows([{ id: 'a', problem: 'p', answer: '3,5' }, { id: 'c', problem: 'double it', tests: { inputs: ['1'], outputs: ['2'] } }]));
  assert.equal((await readEvalData(mixed, { limit: Infinity, decimalComma: false })).length, 2);
  await assert.rejects(readEvalData(mixed, { limit: Infinity, decimalComma: true }), (e: Error) => e instanceof UsageError && e.message.startsWith(`${mixed}:2: --decimal-comma only applies to math rows`));

  // Through the command: the data is read (and refused) before the checkpoint, which does not exist.
  const ctx = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() };
  await assert.rejects(evaluate.run(['--checkpoint', join(dir.path, 'nope'), '--data', mixed, '--k', '1', '--decimal-comma'], ctx), (e: Error) => e instanceof UsageError && e.message.includes('--decimal-comma only applies to math rows'));
});
