import { ValidationError } from '@acereason/protocol';
import type { Tokenizer } from './tokenizer.js';

export const CHAR_SPECIALS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;

/**
 * Character-level tokenizer for the demo model: ids 0..3 are <pad> <bos> <eos> <unk>, then one id
 * per character of the alphabet. Unknown characters map to <unk>.
 */
export class CharTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly eosTokenId = 2;
  readonly bosTokenId = 1;
  private readonly toId = new Map<string, number>();
  private readonly chars: string[];

  constructor(alphabet: string) {
    this.chars = [...new Set([...alphabet])];
    if (this.chars.length === 0) throw new ValidationError('alphabet', 'must not be empty');
    this.chars.forEach((ch, i) => this.toId.set(ch, i + CHAR_SPECIALS.length));
    this.vocabSize = this.chars.length + CHAR_SPECIALS.length;
  }

  encode(text: string): Uint32Array {
    return Uint32Array.from([...text].map((ch) => this.toId.get(ch) ?? 3));
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] ?? 0;
      if (id >= CHAR_SPECIALS.length) s += this.chars[id - CHAR_SPECIALS.length] ?? '';
    }
    return s;
  }

  tokenId(token: string): number | undefined {
    const special = CHAR_SPECIALS.indexOf(token as (typeof CHAR_SPECIALS)[number]);
    return special >= 0 ? special : this.toId.get(token);
  }
}

/**
 * The demo alphabet: digits, lower-case letters, arithmetic and a few punctuation marks, then (appended,
 * so earlier ids are unchanged) what tiny Python programs in a ```python block need. 60 characters:
 * with the 4 specials it fills DEMO_MODEL's vocabulary of 64 exactly.
 */
export const DEMO_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz +-*/=()?.,:\\{}\n`"_%<>[]';
