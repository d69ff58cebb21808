import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CharTokenizer, DEMO_ALPHABET } from './char.js';
import { charTokenizerFiles } from './char-hf.js';
import { loadHfTokenizer } from './hf.js';

test('the character tokenizer as tokenizer.json encodes and decodes exactly as CharTokenizer', () => {
  const char = new CharTokenizer(DEMO_ALPHABET);
  const files = charTokenizerFiles(DEMO_ALPHABET);
  const hf = loadHfTokenizer(files['tokenizer.json'] as string, files['tokenizer_config.json']);
  assert.equal(hf.vocabSize, char.vocabSize);
  assert.equal(hf.eosTokenId, char.eosTokenId);
  for (const s of ['q:1+2=\\boxed{3}', 'a b\n\nc', '```python\nprint(1)\n```', 'UPPER and é unknown', DEMO_ALPHABET]) {
    assert.deepEqual([...hf.encode(s)], [...char.encode(s)], JSON.stringify(s));
    const ids = char.encode(s);
    assert.equal(hf.decode(ids), char.decode(ids));
  }
  assert.equal(hf.decode([2, 5, 1, 6, 0]), char.decode([2, 5, 1, 6, 0]), 'specials are skipped');
  assert.equal(hf.decode([]), '', 'no ids, no text (a response of only the stop token)');
});
