/** Text keys shared by dedup and decontamination: case, width and spacing do not make a new problem. */

export function canonicalText(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Word tokens: runs of letters or digits. */
export function words(s: string): string[] {
  return s.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * English function words that paraphrases insert or drop ("has a perimeter of 30" / "has perimeter
 * 30", "all the divisors" / "all divisors"). Words that change a problem's meaning stay out of
 * this list: negations, comparisons and quantity words ("not", "no", "least", "most", "more",
 * "less", "than", "only", "each", "every", "both", "either"), and every number.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'the', 'of', 'to', 'in', 'on', 'at', 'for', 'by', 'with', 'from', 'into', 'onto', 'as',
  'is', 'are', 'was', 'were', 'be', 'been', 'being', 'has', 'have', 'had', 'do', 'does', 'did',
  'and', 'or', 'that', 'which', 'who', 'whom', 'this', 'these', 'those', 'it', 'its', 'there', 'their',
  'all', 'any', 'some', 'so', 'such', 'then', 'what', 'we', 'you', 'your', 'our', 'us', 'let', 'given',
  'please', 'can', 'will', 'shall', 'would', 'should', 'may', 'might', 'must', 'if', 'when', 'where',
]);

/** Word tokens without function words: what near-duplicate detection compares. */
export function contentWords(s: string): string[] {
  return words(s).filter((w) => !STOP_WORDS.has(w));
}

/** The set of n-word shingles (the whole text when it is shorter than n words). */
export function shingles(tokens: readonly string[], n: number): Set<string> {
  const out = new Set<string>();
  if (tokens.length === 0) return out;
  if (tokens.length <= n) {
    out.add(tokens.join(' '));
    return out;
  }
  for (let i = 0; i + n <= tokens.length; i++) out.add(tokens.slice(i, i + n).join(' '));
  return out;
}

/** 32-bit FNV-1a. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
