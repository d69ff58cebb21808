export interface EncodeOptions {
  /** Add the tokenizer's own special tokens (e.g. a BOS from its post-processor). Default false. */
  addSpecialTokens?: boolean;
}

/** One interface over the demo's character tokenizer and Hugging Face `tokenizer.json` tokenizers. */
export interface Tokenizer {
  readonly vocabSize: number;
  /** End-of-sequence id, used as a stop token. */
  readonly eosTokenId: number | undefined;
  /** Every id generation stops on (eos and generation_config's eos_token_id list), when known. */
  readonly stopTokenIds?: readonly number[];
  encode(text: string, opts?: EncodeOptions): Uint32Array;
  decode(ids: ArrayLike<number>): string;
  tokenId(token: string): number | undefined;
}
