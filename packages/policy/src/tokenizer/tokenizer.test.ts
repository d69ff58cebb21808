import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CharTokenizer, DEMO_ALPHABET } from './char.js';
import { loadHfTokenizer } from './hf.js';

test('character tokenizer round-trips and maps unknowns to <unk>', () => {
  const t = new CharTokenizer(DEMO_ALPHABET);
  const ids = t.encode('12+30=42');
  assert.equal(t.decode(ids), '12+30=42');
  assert.ok([...ids].every((i) => i >= 4 && i < t.vocabSize));
  assert.deepEqual([...t.encode('A')], [3]);
  assert.equal(t.tokenId('<eos>'), t.eosTokenId);
});

test('Hugging Face tokenizer.json (byte-level BPE) encodes and decodes', () => {
  // A tiny byte-level BPE in the tokenizer.json format Qwen2/Llama-3 use.
  const vocab: Record<string, number> = { a: 0, b: 1, c: 2, 'Ġ': 3, ab: 4, abc: 5, 'Ġabc': 6, '<|endoftext|>': 7 };
  const json = {
    version: '1.0',
    added_tokens: [{ id: 7, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, vocab, merges: ['a b', 'ab c', 'Ġ abc'] },
  };
  const t = loadHfTokenizer(JSON.stringify(json), { eos_token: '<|endoftext|>' });
  assert.equal(t.vocabSize, 8);
  assert.equal(t.eosTokenId, 7);
  const ids = t.encode('abc abc');
  assert.deepEqual([...ids], [5, 6]);
  assert.equal(t.decode(ids), 'abc abc');
});
