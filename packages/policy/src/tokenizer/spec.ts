import type { RunSpec } from '@acereason/protocol';
import type { Tokenizer } from './tokenizer.js';
import { CharTokenizer } from './char.js';
import { assetsFromFiles } from '../weights/hf-assets.js';
import { modelTokenizerFromAssets } from './model-tokenizer.js';

export type TokenizerSpec = RunSpec['tokenizer'];

/**
 * Builds the tokenizer a run spec names. Workers joining a run get the spec from the run-state
 * bucket and, for `hf`, the asset files (tokenizer.json, tokenizer_config.json ...) from the
 * assets object store.
 */
export function tokenizerFromSpec(spec: TokenizerSpec, files: Readonly<Record<string, Uint8Array>> = {}): Tokenizer {
  if (spec.kind === 'char') return new CharTokenizer(spec.alphabet);
  return modelTokenizerFromAssets(assetsFromFiles({ ...files }, 'the run assets'), 'the run assets').tokenizer;
}
