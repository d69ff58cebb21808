/**
 * Exact and near-duplicate removal, keeping the first occurrence. Near duplicates are compared on
 * word shingles (lower case, no punctuation) twice: as written, and without function words, so a
 * paraphrase that inserts or drops "a", "the", "of" is still one problem. Numbers and meaning
 * words (not, least, most, than) are never dropped.
 */
import { canonicalText, contentWords, shingles, STOP_WORDS, words } from '../text.js';
import type { CurateRow, Removal } from '../types.js';
import { LshIndex, jaccard, minhashSignature } from './minhash.js';

export interface DedupOptions {
  /** Words per shingle (default 3). */
  shingleWords: number;
  /** Jaccard similarity of shingle sets at or above which two problems are near-duplicates (default 0.7). */
  threshold: number;
  numPerm: number;
  bands: number;
}

export const DEFAULT_DEDUP: DedupOptions = { shingleWords: 3, threshold: 0.7, numPerm: 128, bands: 32 };

export function dedupExact(rows: readonly CurateRow[]): { kept: CurateRow[]; removed: Removal[] } {
  const seen = new Map<string, CurateRow>();
  const kept: CurateRow[] = [];
  const removed: Removal[] = [];
  for (const r of rows) {
    const key = canonicalText(r.problem);
    const first = seen.get(key);
    if (first) {
      removed.push({ id: r.id, line: r.line, step: 'dedup_exact', reason: 'exact_duplicate', matched: first.id, detail: `same text as "${first.id}" (line ${first.line})` });
      continue;
    }
    seen.set(key, r);
    kept.push(r);
  }
  return { kept, removed };
}

/** The settings of the near-duplicate step, for the report (the threshold a reader must know). */
export function dedupSettings(options: DedupOptions): Record<string, number | string> {
  return { threshold: options.threshold, shingle_words: options.shingleWords, num_perm: options.numPerm, bands: options.bands, compared: `shingles of all words and of content words (${STOP_WORDS.size} function words dropped); the higher similarity counts` };
}

interface Indexed {
  row: CurateRow;
  raw: Set<string>;
  content: Set<string>;
}

/**
 * A row is a near duplicate of an earlier one when the Jaccard similarity of their shingle sets is
 * at or above the threshold on either reading: all words (the text as written) or content words
 * (function words, case and punctuation gone). Candidates come from one LSH index per reading.
 */
export function dedupNear(rows: readonly CurateRow[], options: DedupOptions = DEFAULT_DEDUP): { kept: CurateRow[]; removed: Removal[] } {
  const lsh = { numPerm: options.numPerm, bands: options.bands };
  const byRaw = new LshIndex<Indexed>(lsh);
  const byContent = new LshIndex<Indexed>(lsh);
  const kept: CurateRow[] = [];
  const removed: Removal[] = [];
  for (const r of rows) {
    const item: Indexed = { row: r, raw: shingles(words(r.problem), options.shingleWords), content: shingles(contentWords(r.problem), options.shingleWords) };
    const rawSig = minhashSignature(item.raw, options.numPerm);
    const contentSig = minhashSignature(item.content, options.numPerm);
    let match: { row: CurateRow; sim: number; on: string } | undefined;
    for (const c of new Set([...byRaw.candidates(rawSig), ...byContent.candidates(contentSig)])) {
      const raw = jaccard(item.raw, c.raw);
      const content = jaccard(item.content, c.content);
      const sim = Math.max(raw, content);
      if (sim >= options.threshold && (match === undefined || sim > match.sim)) match = { row: c.row, sim, on: content > raw ? 'content words' : 'all words' };
    }
    if (match) {
      removed.push({ id: r.id, line: r.line, step: 'dedup_near', reason: 'near_duplicate', matched: match.row.id, detail: `jaccard ${match.sim.toFixed(2)} (${match.on}, threshold ${options.threshold}) with "${match.row.id}" (line ${match.row.line})` });
      continue;
    }
    byRaw.add(rawSig, item);
    byContent.add(contentSig, item);
    kept.push(r);
  }
  return { kept, removed };
}
