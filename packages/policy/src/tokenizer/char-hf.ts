/**
 * The character tokenizer as Hugging Face tokenizer files, so a model directory of the demo model
 * (written for an inference server) carries a tokenizer that encodes and decodes exactly as
 * CharTokenizer does: a WordLevel vocabulary of the specials and the alphabet, one token per
 * character, the specials skipped when decoding.
 */
import { HF_FILES } from '../weights/hf-files.js';
import { CHAR_SPECIALS } from './char.js';
import type { TokenizerSpec } from './spec.js';

export function charTokenizerFiles(alphabet: string): Record<string, string> {
  const vocab: Record<string, number> = {};
  CHAR_SPECIALS.forEach((t, i) => (vocab[t] = i));
  [...new Set([...alphabet])].forEach((ch, i) => (vocab[ch] = i + CHAR_SPECIALS.length));
  const tokenizer = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: CHAR_SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    // Every character on its own ([\s\S]: newlines too), in JavaScript and Rust regex alike.
    pre_tokenizer: { type: 'Split', pattern: { Regex: '[\\s\\S]' }, behavior: 'Isolated', invert: false },
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
  };
  const config = { tokenizer_class: 'PreTrainedTokenizerFast', pad_token: '<pad>', bos_token: '<bos>', eos_token: '<eos>', unk_token: '<unk>', add_bos_token: false, add_eos_token: false };
  return { [HF_FILES.tokenizer]: JSON.stringify(tokenizer), [HF_FILES.tokenizerConfig]: JSON.stringify(config) };
}

/**
 * The asset files of a model directory written for an inference server: the character
 * tokenizer's as tokenizer.json, or the run's assets (tokenizer, generation config, config.json ...)
 * as the learner published them.
 */
export function modelDirFiles(spec: TokenizerSpec, assets: Readonly<Record<string, Uint8Array>>): Record<string, string | Uint8Array> {
  return spec.kind === 'char' ? { ...assets, ...charTokenizerFiles(spec.alphabet) } : { ...assets };
}
