import { AceReasonError, ErrorCodes, ValidationError } from '@acereason/protocol';
import type { HfAssets } from '../weights/hf-assets.js';
import { HF_FILES } from '../weights/hf-files.js';
import { ChatTemplate } from './chat-template.js';
import { loadHfTokenizer } from './hf.js';
import type { HfJsonTokenizer } from './hf.js';

/** What a model directory's asset files give for prompting: the tokenizer, its chat template, the stop ids. */
export interface ModelTokenizer {
  tokenizer: HfJsonTokenizer;
  chatTemplate?: ChatTemplate;
  /** tokenizer_config.json's eos plus generation_config.json's eos_token_id (a number or a list). */
  stopTokenIds: readonly number[];
}

/**
 * With `modelVocabSize` (config.json's vocab_size), a tokenizer with ids past the model's
 * embedding rows is refused here, not at the first prompt that uses one.
 */
export function modelTokenizerFromAssets(assets: HfAssets, dir = 'the model directory', modelVocabSize?: number): ModelTokenizer {
  if (assets.tokenizerJson === undefined) throw new AceReasonError(ErrorCodes.NOT_FOUND, `${HF_FILES.tokenizer}: missing in ${dir}`, { field: HF_FILES.tokenizer });
  const tokenizer = loadHfTokenizer(assets.tokenizerJson, assets.tokenizerConfig ?? {}, assets.generationConfig ?? {});
  if (modelVocabSize !== undefined && tokenizer.vocabSize > modelVocabSize) {
    throw new ValidationError(HF_FILES.tokenizer, `token ids go up to ${tokenizer.vocabSize - 1} but ${HF_FILES.config}:vocab_size is ${modelVocabSize} (in ${dir}): the model has no embedding for the rest`);
  }
  const out: ModelTokenizer = { tokenizer, stopTokenIds: tokenizer.stopTokenIds };
  if (assets.chatTemplate !== undefined) {
    const file = assets.files[HF_FILES.chatTemplate] !== undefined ? HF_FILES.chatTemplate : `${HF_FILES.tokenizerConfig}:chat_template`;
    out.chatTemplate = new ChatTemplate(assets.chatTemplate, tokenizer.specialTokens, file);
  }
  return out;
}
