import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { DecodeError, ValidationError } from '@acereason/protocol';
import type { EncodeOptions, Tokenizer } from './tokenizer.js';

type Json = Record<string, unknown>;

/** A special-token field of tokenizer_config.json: a string or an AddedToken object `{content}`. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/**
 * A Hugging Face `tokenizer.json` (BPE, Unigram, WordPiece) through @huggingface/tokenizers, with
 * tokenizer_config.json's special tokens (bos/eos/pad, added tokens) and generation_config.json's
 * `eos_token_id` (a number or a list): generation stops on any of `stopTokenIds`.
 */
export class HfJsonTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number | undefined;
  readonly bosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  /** Special token strings by role, as chat templates see them (`bos_token`, `eos_token`, ...). */
  readonly specialTokens: Record<string, string>;
  /** Every id generation stops on: tokenizer_config's eos plus generation_config's eos_token_id(s). */
  readonly stopTokenIds: readonly number[];
  private readonly tok: HfTokenizer;

  constructor(tokenizerJson: object, tokenizerConfig: Json = {}, generationConfig: Json = {}) {
    try {
      this.tok = new HfTokenizer(tokenizerJson, tokenizerConfig);
    } catch (cause) {
      throw new DecodeError(`tokenizer.json could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    const vocab = this.tok.get_vocab(true);
    let max = -1;
    for (const id of vocab.values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
    this.specialTokens = {};
    const id = (role: string): number | undefined => {
      const text = tokenText(tokenizerConfig[role]);
      if (text === undefined) return undefined;
      const i = this.tok.token_to_id(text);
      if (i === undefined) throw new ValidationError(`tokenizer_config.json:${role}`, `${JSON.stringify(text)} is not a token of tokenizer.json`);
      this.specialTokens[role] = text;
      return i;
    };
    this.bosTokenId = id('bos_token');
    this.eosTokenId = id('eos_token');
    this.padTokenId = id('pad_token');
    id('unk_token');
    const stops = new Set<number>(this.eosTokenId === undefined ? [] : [this.eosTokenId]);
    const g = generationConfig.eos_token_id;
    for (const e of Array.isArray(g) ? g : g === undefined || g === null ? [] : [g]) {
      if (!Number.isInteger(e) || (e as number) < 0 || (e as number) >= this.vocabSize) throw new ValidationError('generation_config.json:eos_token_id', `must be token ids of the vocabulary (< ${this.vocabSize}), got ${JSON.stringify(g)}`);
      stops.add(e as number);
    }
    this.stopTokenIds = [...stops];
  }

  encode(text: string, opts: EncodeOptions = {}): Uint32Array {
    return Uint32Array.from(this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens === true }).ids);
  }

  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean } = {}): string {
    // The library refuses an empty list; a response of only a stop token has no text.
    if (ids.length === 0) return '';
    return this.tok.decode(Array.from(ids), { skip_special_tokens: opts.skipSpecialTokens ?? true });
  }

  tokenId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }
}

/** Parses tokenizer.json (and optionally tokenizer_config.json, generation_config.json) text. */
export function loadHfTokenizer(tokenizerJson: string | object, tokenizerConfig?: string | Json, generationConfig?: string | Json): HfJsonTokenizer {
  const parse = <T>(x: string | T, what: string): T => {
    if (typeof x !== 'string') return x;
    try {
      return JSON.parse(x) as T;
    } catch (cause) {
      throw new DecodeError(`${what} is not JSON`, { cause });
    }
  };
  return new HfJsonTokenizer(
    parse<object>(tokenizerJson, 'tokenizer.json'),
    tokenizerConfig === undefined ? {} : parse<Json>(tokenizerConfig, 'tokenizer_config.json'),
    generationConfig === undefined ? {} : parse<Json>(generationConfig, 'generation_config.json'),
  );
}
