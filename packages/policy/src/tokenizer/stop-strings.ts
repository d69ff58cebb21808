import { ValidationError } from '@acereason/protocol';
import type { Tokenizer } from './tokenizer.js';

/**
 * A check that the text of the generated tokens contains one of `stops`. It decodes only the
 * last few tokens (enough for the longest stop string even at one byte per token), so a long
 * generation costs the same per token as a short one.
 */
export function stopStringChecker(tokenizer: Pick<Tokenizer, 'decode'>, stops: readonly string[], field = 'stopStrings'): (generated: readonly number[]) => boolean {
  if (stops.some((s) => typeof s !== 'string' || s.length === 0)) throw new ValidationError(field, 'must be non-empty strings');
  if (stops.length === 0) return () => false;
  const window = 4 * Math.max(...stops.map((s) => Buffer.byteLength(s))) + 2;
  return (generated) => {
    const text = tokenizer.decode(generated.slice(Math.max(0, generated.length - window)));
    return stops.some((s) => text.includes(s));
  };
}
