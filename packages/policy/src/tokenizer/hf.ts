import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { DecodeError } from '@acereason/protocol';
import type { Tokenizer } from './tokenizer.js';

/** A Hugging Face `tokenizer.json` (BPE, Unigram, WordPiece) through @huggingface/tokenizers. */
export class HfJsonTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number | undefined;
  private readonly tok: HfTokenizer;

  constructor(tokenizerJson: object, tokenizerConfig: Record<string, unknown> = {}) {
    try {
      this.tok = new HfTokenizer(tokenizerJson, tokenizerConfig);
    } catch (cause) {
      throw new DecodeError('tokenizer.json could not be loaded', { cause });
    }
    const vocab = this.tok.get_vocab(true);
    let max = -1;
    for (const id of vocab.values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
    const eos = tokenizerConfig.eos_token;
    const eosName = typeof eos === 'string' ? eos : typeof eos === 'object' && eos !== null && typeof (eos as { content?: unknown }).content === 'string' ? (eos as { content: string }).content : undefined;
    this.eosTokenId = eosName === undefined ? undefined : this.tok.token_to_id(eosName);
  }

  encode(text: string): Uint32Array {
    return Uint32Array.from(this.tok.encode(text, { add_special_tokens: false }).ids);
  }

  decode(ids: ArrayLike<number>): string {
    return this.tok.decode(Array.from(ids), { skip_special_tokens: true });
  }

  tokenId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }
}

/** Parses tokenizer.json (and optionally tokenizer_config.json) text. */
export function loadHfTokenizer(tokenizerJson: string | object, tokenizerConfig?: string | Record<string, unknown>): HfJsonTokenizer {
  const parse = <T>(x: string | T, what: string): T => {
    if (typeof x !== 'string') return x;
    try {
      return JSON.parse(x) as T;
    } catch (cause) {
      throw new DecodeError(`${what} is not JSON`, { cause });
    }
  };
  return new HfJsonTokenizer(parse<object>(tokenizerJson, 'tokenizer.json'), tokenizerConfig === undefined ? {} : parse<Record<string, unknown>>(tokenizerConfig, 'tokenizer_config.json'));
}
