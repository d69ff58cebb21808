import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@acereason/testkit';
import { compileRunConfig } from './run-config.js';
import { loadDatasets } from '../setup.js';

const stages = [{ dataset: 'eu', steps: 1, max_response_tokens: 8 }];

test('datasets.NAME.decimal_comma: compiled per dataset (off by default), carried on each math reference; a bad value names the field', async () => {
  await using dir = await tempDir('run-config');
  writeFileSync(join(dir.path, 'eu.jsonl'), '{"id":"a","problem":"p","answer":"3,5"}\n');
  writeFileSync(join(dir.path, 'us.jsonl'), '{"id":"a","problem":"p","answer":"3.5"}\n');
  const datasets = { eu: { path: 'eu.jsonl', domain: 'math', decimal_comma: true }, us: { path: 'us.jsonl', domain: 'math' } };
  const c = compileRunConfig({ model: { preset: 'demo' }, datasets, stages, eval: { datasets: ['us'] } }, dir.path);
  assert.equal(c.datasets.eu?.decimalComma, true);
  assert.equal(c.datasets.us?.decimalComma, false);
  const loaded = loadDatasets(c);
  assert.deepEqual(loaded.eu?.prompts[0]?.reference, { type: 'math', answer: '3,5', decimalComma: true });
  assert.deepEqual(loaded.us?.prompts[0]?.reference, { type: 'math', answer: '3.5' }, 'the default leaves the reference as it was');

  assert.throws(() => compileRunConfig({ model: { preset: 'demo' }, datasets: { eu: { path: 'eu.jsonl', domain: 'math', decimal_comma: 'sometimes' } }, stages }),
    /datasets\.eu\.decimal_comma: expected true or false, got "sometimes"/);
  assert.throws(() => compileRunConfig({ model: { preset: 'demo' }, datasets: { eu: { path: 'c.jsonl', domain: 'code', decimal_comma: true } }, stages }),
    /datasets\.eu\.decimal_comma: only applies to math datasets; "eu" is code/);
  assert.throws(() => compileRunConfig({ model: { preset: 'demo' }, datasets: { eu: { path: 'eu.jsonl', domain: 'math', decimal_commas: true } }, stages }),
    /datasets\.eu\.decimal_commas: unknown setting/);
});
