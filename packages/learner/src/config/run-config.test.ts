import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@acereason/testkit';
import { ValidationError } from '@acereason/protocol';
import { RECIPE_INSTRUCTIONS } from '@acereason/policy';
import { compileRunConfig, MATH_PROMPT } from './run-config.js';
import { checkDatasetPrompts, loadDatasets, tokenizerFor } from '../setup.js';

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

test('engine: kind openai compiles the actors\' inference server with defaults; bad values name the field', () => {
  const base = { model: { preset: 'demo' }, datasets: { eu: { path: 'eu.jsonl', domain: 'math' } }, stages };
  assert.equal(compileRunConfig({ ...base, engine: { threads: 2 } }).engine.rollout, undefined, 'embedded by default');
  const c = compileRunConfig({ ...base, engine: { kind: 'openai', url: 'http://gpu-1:8000/', model: 'policy', weights: 'sglang', api_key_env: 'SGL_KEY', request_timeout: '2m', threads: 2 } });
  assert.deepEqual(c.engine, {
    executionProvider: 'cpu', threads: 2,
    rollout: { kind: 'openai', url: 'http://gpu-1:8000', model: 'policy', weights: 'sglang', apiKeyEnv: 'SGL_KEY', maxConcurrency: 8, requestTimeoutMs: 120_000, probeTolerance: 0.02 },
    generationDtype: 'float32',
  });
  const bad = (engine: Record<string, unknown>, re: RegExp): void => void assert.throws(() => compileRunConfig({ ...base, engine }), re);
  bad({ kind: 'openai', model: 'm', weights: 'vllm' }, /engine\.url: required with kind openai/);
  bad({ kind: 'openai', url: 'gpu-1:8000', model: 'm', weights: 'vllm' }, /engine\.url: must be http/);
  bad({ kind: 'openai', url: 'http://h:1', weights: 'vllm' }, /engine\.model: required/);
  bad({ kind: 'openai', url: 'http://h:1', model: 'm', weights: 'tgi' }, /engine\.weights: required with kind openai: how weights get into the server, one of acereason, sglang, vllm, none; got "tgi"/);
  bad({ kind: 'openai', url: 'http://h:1', model: 'm', weights: 'vllm', max_concurrency: 0 }, /engine\.max_concurrency: expected an integer in \[1, 1024\]/);
  bad({ kind: 'openai', url: 'http://h:1', model: 'm', weights: 'vllm', request_timeout: 'soon' }, /engine\.request_timeout: expected a duration/);
  bad({ kind: 'ollama' }, /engine\.kind/);
  bad({ url: 'http://h:1' }, /engine\.url: only with engine\.kind: openai/);
});

test('datasets.NAME.prompt: chat (the recipe instruction of the domain by default) or raw, system and instruction; prompt_template as before; errors name the field', () => {
  const ds = (d: Record<string, unknown>, model: Record<string, unknown> = { preset: 'demo' }) => compileRunConfig({ model, datasets: { eu: { path: 'eu.jsonl', domain: 'math', ...d } }, stages }).datasets.eu?.prompt;
  assert.deepEqual(ds({}), { kind: 'template', template: MATH_PROMPT }, 'the demo default is unchanged');
  assert.deepEqual(ds({ prompt_template: 'q:{problem}=' }), { kind: 'template', template: 'q:{problem}=' });
  assert.deepEqual(ds({ prompt: { mode: 'chat' } }), { kind: 'format', format: { mode: 'chat', instruction: RECIPE_INSTRUCTIONS.math } });
  assert.deepEqual(ds({}, { path: 'model' }), { kind: 'format', format: { mode: 'chat', instruction: RECIPE_INSTRUCTIONS.math } }, 'a model directory defaults to chat');
  assert.deepEqual(ds({ domain: 'code', prompt: { system: 'S' } }), { kind: 'format', format: { mode: 'chat', system: 'S', instruction: RECIPE_INSTRUCTIONS.code } });
  assert.deepEqual(ds({ prompt: { mode: 'chat', instruction: '' } }), { kind: 'format', format: { mode: 'chat' } });
  assert.deepEqual(ds({ prompt: { mode: 'raw', instruction: 'Answer:' } }), { kind: 'format', format: { mode: 'raw', instruction: 'Answer:' } });
  assert.throws(() => ds({ prompt: { mode: 'fancy' } }), (e: unknown) => e instanceof ValidationError && e.field === 'datasets.eu.prompt.mode');
  assert.throws(() => ds({ prompt: { mode: 'chat', sytem: 'x' } }), /datasets\.eu\.prompt\.sytem: unknown setting/);
  assert.throws(() => ds({ prompt: { mode: 'chat', system: 3 } }), (e: unknown) => e instanceof ValidationError && e.field === 'datasets.eu.prompt.system');
  assert.throws(() => ds({ prompt: { mode: 'raw' }, prompt_template: '{problem}' }), (e: unknown) => e instanceof ValidationError && e.field === 'datasets.eu.prompt');
  assert.throws(() => ds({ prompt_template: 'no problem here' }), (e: unknown) => e instanceof ValidationError && e.field === 'datasets.eu.prompt_template');
});

test('a chat dataset without a chat template is refused before the run starts, naming the field', () => {
  const c = compileRunConfig({ model: { preset: 'demo' }, datasets: { eu: { path: 'eu.jsonl', domain: 'math', prompt: { mode: 'chat' } } }, stages });
  assert.throws(() => checkDatasetPrompts(c, tokenizerFor(c)), (e: unknown) => e instanceof ValidationError && e.field === 'datasets.eu.prompt.mode' && /chat needs the model's chat template/.test(e.message));
  const raw = compileRunConfig({ model: { preset: 'demo' }, datasets: { eu: { path: 'eu.jsonl', domain: 'math', prompt: { mode: 'raw' } } }, stages });
  checkDatasetPrompts(raw, tokenizerFor(raw));
});

test('engine.generation_dtype: float32 by default, float16 compiled; bfloat16, other values and an inference server refused naming the field', () => {
  const base = { model: { preset: 'demo' }, datasets: { eu: { path: 'eu.jsonl', domain: 'math' } }, stages };
  assert.equal(compileRunConfig(base).engine.generationDtype, 'float32');
  assert.equal(compileRunConfig({ ...base, engine: { generation_dtype: 'float16' } }).engine.generationDtype, 'float16');
  const refused = (engine: Record<string, unknown>, re: RegExp): void => {
    assert.throws(() => compileRunConfig({ ...base, engine }), (e: unknown) => e instanceof ValidationError && e.field === 'engine.generation_dtype' && re.test(e.message));
  };
  refused({ generation_dtype: 'bfloat16' }, /bfloat16 is not supported .*no bfloat16 kernels/);
  refused({ generation_dtype: 'int8' }, /int8/);
  refused({ kind: 'openai', url: 'http://gpu-1:8000', model: 'policy', weights: 'sglang', generation_dtype: 'float16' }, /only with the embedded engine/);
});
