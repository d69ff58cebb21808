import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { loadServedModel } from './served-model.js';
import { startServe, type RunningServe } from './server.js';
import { writeTestModelDir } from './test-model.js';

const dir = mkdtempSync(join(tmpdir(), 'acereason-serve-'));
const KEY = 'test-key-0123456789';
let serve: RunningServe;
let client: OpenAI;
const MODEL = 'tiny-qwen3';

before(async () => {
  writeTestModelDir(join(dir, 'v0'), 1);
  writeTestModelDir(join(dir, 'v1'), 2);
  const model = await loadServedModel(join(dir, 'v0'), { name: MODEL, threads: 1 });
  serve = await startServe({ model, port: 0, apiKey: KEY });
  client = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: KEY, maxRetries: 0 });
});

after(async () => {
  await serve.close();
  rmSync(dir, { recursive: true, force: true });
});

test('models lists the served model', async () => {
  const list = await client.models.list();
  assert.deepEqual(list.data.map((m) => m.id), [MODEL]);
});

test('completions with n and logprobs; the same seed gives the same text, token ids round-trip', async () => {
  const a = await client.completions.create({ model: MODEL, prompt: 'The answer is', n: 3, max_tokens: 8, logprobs: 1, seed: 7, temperature: 1 });
  assert.equal(a.choices.length, 3);
  for (const c of a.choices) {
    const ids = (c as unknown as { token_ids: number[] }).token_ids;
    assert.ok(ids.length >= 1 && ids.length <= 8);
    assert.equal(c.logprobs?.token_logprobs?.length, ids.length);
    for (const lp of c.logprobs?.token_logprobs ?? []) assert.ok(Number.isFinite(lp) && lp <= 0);
    assert.ok(c.finish_reason === 'length' || c.finish_reason === 'stop');
  }
  assert.ok(new Set(a.choices.map((c) => c.text)).size > 1, 'the n samples differ');
  const b = await client.completions.create({ model: MODEL, prompt: 'The answer is', n: 3, max_tokens: 8, logprobs: 1, seed: 7, temperature: 1 });
  assert.deepEqual(b.choices.map((c) => c.text), a.choices.map((c) => c.text));
  const other = await client.completions.create({ model: MODEL, prompt: 'The answer is', n: 3, max_tokens: 8, seed: 8, temperature: 1 });
  assert.notDeepEqual(other.choices.map((c) => c.text), a.choices.map((c) => c.text));
  // The prompt as token ids gives the same samples as its text.
  const ids = (a.choices[0] as unknown as { prompt_token_ids: number[] }).prompt_token_ids;
  const byIds = await client.completions.create({ model: MODEL, prompt: ids, n: 3, max_tokens: 8, seed: 7, temperature: 1 });
  assert.deepEqual(byIds.choices.map((c) => c.text), a.choices.map((c) => c.text));
});

test('chat completions through the model chat template, and streaming gives the same text as without', async () => {
  const chat = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'What is 2+2?' }], max_tokens: 6, seed: 3, logprobs: true });
  assert.equal(chat.choices[0]?.message.role, 'assistant');
  assert.equal(typeof chat.choices[0]?.message.content, 'string');
  assert.ok((chat.choices[0]?.logprobs?.content?.length ?? 0) >= 1);
  const whole = await client.completions.create({ model: MODEL, prompt: 'Once upon', max_tokens: 10, seed: 5 });
  const stream = await client.completions.create({ model: MODEL, prompt: 'Once upon', max_tokens: 10, seed: 5, stream: true });
  let text = '';
  let finish: string | null = null;
  for await (const ev of stream) {
    text += ev.choices[0]?.text ?? '';
    finish = ev.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, whole.choices[0]?.text);
  assert.equal(finish, whole.choices[0]?.finish_reason);
  const chatStream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'What is 2+2?' }], max_tokens: 6, seed: 3, stream: true });
  let chatText = '';
  for await (const ev of chatStream) chatText += ev.choices[0]?.delta.content ?? '';
  assert.equal(chatText, chat.choices[0]?.message.content);
});

test('16 concurrent requests are served, decoding together', async () => {
  const steps0 = serve.decoder.stats.steps;
  const outs = await Promise.all([...Array(16).keys()].map((i) => client.completions.create({ model: MODEL, prompt: `Item ${i}:`, max_tokens: 6, seed: i })));
  for (const o of outs) assert.equal(o.choices.length, 1);
  const steps = serve.decoder.stats.steps - steps0;
  assert.ok(steps < 16 * 5, `16 requests of up to 6 tokens took ${steps} decode steps`);
  assert.ok(serve.decoder.stats.peakRows > 1);
});

type WithIds = { token_ids: number[] };

test('a request arriving while another decodes joins its batch mid-decode and samples as if alone', async () => {
  const X = { model: MODEL, prompt: 'Joining late:', n: 2, max_tokens: 12, seed: 11, logprobs: 1 } as const;
  const Y = { model: MODEL, prompt: 'A long story', max_tokens: 120, seed: 4 } as const;
  const aloneX = await client.completions.create(X);
  const aloneY = await client.completions.create(Y);
  const joined0 = serve.decoder.stats.joinedMidDecode;
  const stream = await client.completions.create({ ...Y, stream: true });
  let text = '';
  let late: Promise<OpenAI.Completions.Completion> | undefined;
  for await (const ev of stream) {
    text += ev.choices[0]?.text ?? '';
    // Y is decoding: X joins its batch at the next step.
    late ??= client.completions.create(X);
  }
  assert.ok(late);
  const x = await late;
  assert.equal(serve.decoder.stats.joinedMidDecode - joined0, 2, 'both samples of X joined while Y decoded');
  assert.equal(text, aloneY.choices[0]?.text);
  assert.deepEqual(x.choices.map((c) => (c as unknown as WithIds).token_ids), aloneX.choices.map((c) => (c as unknown as WithIds).token_ids));
  assert.deepEqual(x.choices.map((c) => c.text), aloneX.choices.map((c) => c.text));
  x.choices.forEach((c, i) => c.logprobs?.token_logprobs?.forEach((lp, t) => assert.ok(Math.abs(lp - (aloneX.choices[i]?.logprobs?.token_logprobs?.[t] ?? NaN)) < 1e-4)));
});

test('streaming with logprobs: the chunks carry each token once, the same ids and logprobs as without streaming', async () => {
  const body = { model: MODEL, prompt: 'Count with me', n: 2, max_tokens: 10, seed: 21, logprobs: 1, stop: ['zz'] };
  const whole = await client.completions.create(body);
  const ids: number[][] = [[], []];
  const lps: number[][] = [[], []];
  const offsets: number[][] = [[], []];
  for await (const ev of await client.completions.create({ ...body, stream: true })) {
    for (const c of ev.choices) {
      ids[c.index]?.push(...(c as unknown as WithIds).token_ids);
      lps[c.index]?.push(...(c.logprobs?.token_logprobs ?? []));
      offsets[c.index]?.push(...(c.logprobs?.text_offset ?? []));
    }
  }
  whole.choices.forEach((c, i) => {
    assert.deepEqual(ids[i], (c as unknown as WithIds).token_ids);
    assert.deepEqual(lps[i], c.logprobs?.token_logprobs);
    assert.deepEqual(offsets[i], c.logprobs?.text_offset);
  });
  const chatBody = { model: MODEL, messages: [{ role: 'user' as const, content: 'Hi' }], max_tokens: 7, seed: 2, logprobs: true };
  const chat = await client.chat.completions.create(chatBody);
  const streamed: Array<{ token: string; logprob: number }> = [];
  for await (const ev of await client.chat.completions.create({ ...chatBody, stream: true })) streamed.push(...(ev.choices[0]?.logprobs?.content ?? []));
  assert.deepEqual(streamed.map((t) => [t.token, t.logprob]), chat.choices[0]?.logprobs?.content?.map((t) => [t.token, t.logprob]));
  assert.equal(streamed.length, (chat.choices[0] as unknown as WithIds).token_ids.length);
});

test('bad parameters are 400 naming them; an unknown model 404; a wrong key 401', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ temperature: 5 }, 'temperature'], [{ n: 0 }, 'n'], [{ max_tokens: -1 }, 'max_tokens'], [{ top_p: 0 }, 'top_p'],
    [{ prompt: 42 }, 'prompt'], [{ logprobs: 3 }, 'logprobs'], [{ stop: [1] }, 'stop'], [{ echo: true }, 'echo'], [{ prompt: [999_999_999] }, 'prompt'],
  ];
  for (const [extra, param] of cases) {
    const err = await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 2, ...extra } as never).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, `${param}: ${String(err)}`);
    assert.equal(err.param, param);
  }
  const chatErr = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user' }] } as never).then(() => undefined, (e: unknown) => e);
  assert.ok(chatErr instanceof OpenAI.BadRequestError && chatErr.param === 'messages[0]');
  const nf = await client.completions.create({ model: 'gpt-4', prompt: 'x' }).then(() => undefined, (e: unknown) => e);
  assert.ok(nf instanceof OpenAI.NotFoundError && nf.param === 'model');
  const bad = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
  const auth = await bad.models.list().then(() => undefined, (e: unknown) => e);
  assert.ok(auth instanceof OpenAI.AuthenticationError);
  const health = await fetch(`${serve.url}/health`);
  assert.equal(health.status, 200);
  const metrics = await (await fetch(`${serve.url}/metrics`)).text();
  assert.match(metrics, /acereason_serve_requests_total\{route="\/v1\/completions",status="400"\}/);
});

test('a new version loads from a model directory and is reported; a wrong digest is refused and the old one kept', async () => {
  const post = (body: unknown): Promise<Response> => fetch(`${serve.url}/v1/load_weights`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const before = await client.completions.create({ model: MODEL, prompt: 'Hello', max_tokens: 8, seed: 1 });
  const v0 = await (await fetch(`${serve.url}/v1/weights_version`, { headers: { authorization: `Bearer ${KEY}` } })).json() as { version: number; weights_sha256: string };
  assert.equal(v0.version, 0);
  const wrong = await post({ model_dir: join(dir, 'v1'), version: 1, weights_sha256: 'ab'.repeat(32) });
  assert.equal(wrong.status, 400);
  assert.equal(((await wrong.json()) as { error: { param: string } }).error.param, 'weights_sha256');
  const still = await client.completions.create({ model: MODEL, prompt: 'Hello', max_tokens: 8, seed: 1 });
  assert.equal(still.choices[0]?.text, before.choices[0]?.text, 'the refused version changed nothing');
  const ok = await post({ model_dir: join(dir, 'v1'), version: 1 });
  assert.equal(ok.status, 200);
  const loaded = await ok.json() as { version: number; weights_sha256: string };
  assert.equal(loaded.version, 1);
  assert.notEqual(loaded.weights_sha256, v0.weights_sha256);
  const after1 = await client.completions.create({ model: MODEL, prompt: 'Hello', max_tokens: 8, seed: 1 });
  assert.notEqual(after1.choices[0]?.text, before.choices[0]?.text, 'other weights, other text');
  assert.match(after1.system_fingerprint ?? '', /^v1-/);
  const missing = await post({ model_dir: join(dir, 'nope'), version: 2 });
  assert.equal(missing.status, 400);
  assert.equal(((await missing.json()) as { error: { param: string } }).error.param, 'model_dir');
});
