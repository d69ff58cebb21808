/**
 * The vLLM and SGLang request builders and response parsers as pure functions: request bodies
 * with the documented field names, and answers in the documented shapes (vLLM's completions
 * protocol with return_token_ids / return_tokens_as_token_ids / prompt_logprobs; SGLang's native
 * /generate with return_logprob). No server of theirs runs here; acereason serve is tested for real
 * in openai-engine.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GenerateRequest } from '@acereason/policy';
import { stampNames, versionTag } from './dialect.js';
import { acereasonDialect, sglangDialect, vllmDialect } from './dialects.js';

const req: GenerateRequest = {
  sampleKey: 'run.t.3.1', promptTokens: Uint32Array.from([101, 7, 42]), numSamples: 2, seed: 1234,
  sampling: { temperature: 0.8, topP: 0.95, topK: 0, maxNewTokens: 16, stopTokens: [151645, 151643] },
};

test('vLLM: completions with token ids in, n, sampling fields, stop token ids, seed, logprobs and token ids out', () => {
  const c = vllmDialect.generate('policy', req);
  assert.equal(c.path, '/v1/completions');
  assert.deepEqual(c.body, {
    model: 'policy', prompt: [101, 7, 42], n: 2, max_tokens: 16, temperature: 0.8, top_p: 0.95, top_k: -1, stop_token_ids: [151645, 151643], seed: 1234,
    logprobs: 1, return_token_ids: true, return_tokens_as_token_ids: true, skip_special_tokens: false,
  });
  assert.equal((acereasonDialect.generate('policy', req).body as { sample_key: string }).sample_key, 'run.t.3.1', 'acereason serve keys its sampler as the embedded actors do');
});

test('vLLM: choices (out of order) with token_ids, or only "token_id:N" logprob tokens, become samples; finish reasons map', () => {
  const body = {
    id: 'cmpl-1', object: 'text_completion', model: 'policy',
    choices: [
      { index: 1, text: 'b', finish_reason: 'length', token_ids: [9, 10, 11], logprobs: { tokens: ['token_id:9', 'token_id:10', 'token_id:11'], token_logprobs: [-0.1, -0.2, -0.3], top_logprobs: [], text_offset: [] } },
      { index: 0, text: 'a', finish_reason: 'stop', logprobs: { tokens: ['token_id:5', 'token_id:151645'], token_logprobs: [-1.5, -0.01], top_logprobs: [], text_offset: [] } },
    ],
    usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
  };
  const g = vllmDialect.parseGenerate(body, req);
  assert.deepEqual(g.samples, [
    { tokens: [5, 151645], logprobs: [-1.5, -0.01], finishReason: 'stop' },
    { tokens: [9, 10, 11], logprobs: [-0.1, -0.2, -0.3], finishReason: 'length' },
  ]);
  assert.equal(g.stamp, undefined, 'vLLM responses carry no weights stamp');
  const aborted = { ...body, choices: [body.choices[0], { ...body.choices[1], finish_reason: 'abort' }] };
  assert.throws(() => vllmDialect.parseGenerate(aborted, req), /finish reason "abort" is not stop or length/);
  assert.throws(() => vllmDialect.parseGenerate({ choices: [body.choices[0]] }, req), /1 choices for n = 2/);
  const noIds = { choices: body.choices.map((c) => ({ ...c, token_ids: undefined, logprobs: { token_logprobs: c.logprobs.token_logprobs, tokens: ['a', 'b', 'c'] } })) };
  assert.throws(() => vllmDialect.parseGenerate(noIds, req), /has no token ids/);
  const short = { choices: body.choices.map((c) => ({ ...c, logprobs: { ...c.logprobs, token_logprobs: [-1] } })) };
  assert.throws(() => vllmDialect.parseGenerate(short, req), /1 logprobs for/);
});

test('vLLM: weights load through the dev-mode endpoints in order, the version read back from /weight_info; the probe is prompt_logprobs', () => {
  const tag = versionTag(3, 'ab'.repeat(32));
  assert.deepEqual(vllmDialect.load('/data/v3', tag, 3, 'ab'.repeat(32)).map((c) => [c.path, c.body]), [
    ['/collective_rpc', { method: 'update_config', args: [{ model_config: { model: '/data/v3' } }] }],
    ['/collective_rpc', { method: 'reload_weights' }],
    ['/reset_prefix_cache', undefined],
    ['/update_weight_version', { new_version: tag }],
  ]);
  assert.throws(() => vllmDialect.checkLoaded({ success: false }, { method: 'POST', path: '/update_weight_version' }), /update_weight_version answered/);
  assert.equal(vllmDialect.parseHeld({ weight_version: tag }), tag);
  const tokens = Uint32Array.from([4, 8, 15, 16]);
  assert.deepEqual(vllmDialect.probe('policy', tokens).body, { model: 'policy', prompt: [4, 8, 15, 16], max_tokens: 1, temperature: 1, prompt_logprobs: 0, return_tokens_as_token_ids: true });
  const answer = { choices: [{ index: 0, text: 'x', prompt_logprobs: [null, { 8: { logprob: -2.5, rank: 3, decoded_token: 'token_id:8' } }, { 15: { logprob: -0.5, rank: 1 } }, { 1: { logprob: -0.1, rank: 1 }, 16: { logprob: -4, rank: 9 } }] }] };
  assert.deepEqual([...vllmDialect.parseProbe(answer, tokens, 2)], [-0.5, -4]);
  assert.throws(() => vllmDialect.parseProbe({ choices: [{ prompt_logprobs: [null] }] }, tokens, 2), /expected 4 positions/);
});

test('SGLang: /generate with input_ids and sampling_params; outputs with output_token_logprobs triples and meta_info.weight_version', () => {
  const c = sglangDialect.generate('policy', req);
  assert.equal(c.path, '/generate');
  assert.deepEqual(c.body, {
    input_ids: [101, 7, 42], return_logprob: true, logprob_start_len: -1,
    sampling_params: { n: 2, max_new_tokens: 16, temperature: 0.8, top_p: 0.95, top_k: -1, stop_token_ids: [151645, 151643], sampling_seed: 1234, skip_special_tokens: false },
  });
  const tag = versionTag(7, 'cd'.repeat(32));
  const out = (ids: number[], lps: number[], type: string): unknown => ({
    text: 'x', output_ids: ids,
    meta_info: { id: 'r', finish_reason: type === 'length' ? { type, length: 16 } : { type, matched: ids.at(-1) }, prompt_tokens: 3, completion_tokens: ids.length, weight_version: tag, output_token_logprobs: ids.map((t, i) => [lps[i], t, null]) },
  });
  const g = sglangDialect.parseGenerate([out([5, 6], [-0.5, -0.25], 'stop'), out([7], [-3], 'length')], req);
  assert.deepEqual(g.samples, [{ tokens: [5, 6], logprobs: [-0.5, -0.25], finishReason: 'stop' }, { tokens: [7], logprobs: [-3], finishReason: 'length' }]);
  assert.equal(g.stamp, tag);
  assert.ok(stampNames(g.stamp, 'cd'.repeat(32)));
  assert.ok(!stampNames(g.stamp, 'ab'.repeat(32)));
  assert.throws(() => sglangDialect.parseGenerate([out([5], [-1], 'abort'), out([7], [-3], 'length')], req), /finish reason "abort"/);
  assert.throws(() => sglangDialect.parseGenerate([{ text: 'x', meta_info: {} }, out([7], [-3], 'length')], req), /no meta_info.output_token_logprobs/);
});

test('SGLang: update_weights_from_disk with the weight version, get_model_info for the held one, input_token_logprobs for the probe', () => {
  const tag = versionTag(7, 'cd'.repeat(32));
  assert.deepEqual(sglangDialect.load('/data/v7', tag, 7, 'cd'.repeat(32)), [{ method: 'POST', path: '/update_weights_from_disk', body: { model_path: '/data/v7', weight_version: tag, abort_all_requests: false } }]);
  assert.throws(() => sglangDialect.checkLoaded({ success: false, message: 'shape mismatch', num_paused_requests: 0 }, { method: 'POST', path: '/update_weights_from_disk' }), /update_weights_from_disk failed: shape mismatch/);
  sglangDialect.checkLoaded({ success: true, message: 'Succeeded to update model weights.', num_paused_requests: 0 }, { method: 'POST', path: '/update_weights_from_disk' });
  assert.equal(sglangDialect.parseHeld({ model_path: '/data/v7', tokenizer_path: '/data/v0', is_generation: true, weight_version: tag }), tag);
  const tokens = Uint32Array.from([4, 8, 15]);
  assert.deepEqual(sglangDialect.probe('policy', tokens).body, { input_ids: [4, 8, 15], return_logprob: true, logprob_start_len: 0, sampling_params: { max_new_tokens: 1, temperature: 1 } });
  assert.deepEqual([...sglangDialect.parseProbe({ text: 'y', meta_info: { input_token_logprobs: [[null, 4, null], [-1.25, 8, null], [-0.75, 15, null]] } }, tokens, 1)], [-1.25, -0.75]);
  assert.throws(() => sglangDialect.parseProbe({ meta_info: { input_token_logprobs: [[null, 4, null], [-1, 9, null], [-1, 15, null]] } }, tokens, 1), /is not \[logprob, 8, text\]/);
});
