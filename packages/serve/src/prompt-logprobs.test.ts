/**
 * vLLM's `prompt_logprobs` on /v1/completions (what an actor's provenance probe asks): the served
 * weights' teacher-forced logprob of each prompt token, equal to the engine's own scoring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '@acereason/testkit';
import { loadServedModel } from './served-model.js';
import { startServe } from './server.js';
import { writeTestModelDir } from './test-model.js';

test('prompt_logprobs: null for the first token, then the served weights\' logprob of each prompt token', async () => {
  await using dir = await tempDir('serve-plp');
  writeTestModelDir(join(dir.path, 'm'), 3);
  const model = await loadServedModel(join(dir.path, 'm'), { name: 'm', threads: 1 });
  await using serve = await startServe({ model, port: 0 });
  const prompt = [11, 400, 7, 9000, 23];
  const res = await fetch(`${serve.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', prompt, max_tokens: 1, prompt_logprobs: 0 }) });
  assert.equal(res.status, 200);
  const body = await res.json() as { choices: Array<{ prompt_logprobs: Array<Record<string, { logprob: number }> | null> }> };
  const plp = body.choices[0]?.prompt_logprobs ?? [];
  assert.equal(plp.length, prompt.length);
  assert.equal(plp[0], null);
  const [direct] = await model.engine.score([{ tokens: Uint32Array.from(prompt), scoreFrom: 1 }]);
  for (let i = 1; i < prompt.length; i++) assert.equal(plp[i]?.[String(prompt[i])]?.logprob, direct?.logprobs[i - 1]);
  const bad = await fetch(`${serve.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', prompt, prompt_logprobs: 5 }) });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { param: string } }).error.param, 'prompt_logprobs');
  await model.engine.dispose();
});
