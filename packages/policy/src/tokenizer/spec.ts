import type { RunSpec } from '@acereason/protocol';
import type { Tokenizer } from './tokenizer.js';
import { CharTokenizer } from './char.js';
import { loadHfTokenizer } from './hf.js';

export type TokenizerSpec = RunSpec['tokenizer'];

/** Builds the tokenizer a run spec names (workers joining a run get it from the run-state bucket). */
export function tokenizerFromSpec(spec: TokenizerSpec): Tokenizer {
  return spec.kind === 'char' ? new CharTokenizer(spec.alphabet) : loadHfTokenizer(spec.json);
}
