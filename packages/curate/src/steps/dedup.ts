/** Exact and near-duplicate removal, keeping the first occurrence. */
import { canonicalText, shingles, words } from '../text.js';
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

export function dedupNear(rows: readonly CurateRow[], options: DedupOptions = DEFAULT_DEDUP): { kept: CurateRow[]; removed: Removal[] } {
  const index = new LshIndex<{ row: CurateRow; set: Set<string> }>({ numPerm: options.numPerm, bands: options.bands });
  const kept: CurateRow[] = [];
  const removed: Removal[] = [];
  for (const r of rows) {
    const set = shingles(words(r.problem), options.shingleWords);
    const sig = minhashSignature(set, options.numPerm);
    let match: { row: CurateRow; sim: number } | undefined;
    for (const c of index.candidates(sig)) {
      const sim = jaccard(set, c.set);
      if (sim >= options.threshold && (match === undefined || sim > match.sim)) match = { row: c.row, sim };
    }
    if (match) {
      removed.push({ id: r.id, line: r.line, step: 'dedup_near', reason: 'near_duplicate', matched: match.row.id, detail: `jaccard ${match.sim.toFixed(2)} with "${match.row.id}" (line ${match.row.line})` });
      continue;
    }
    index.add(sig, { row: r, set });
    kept.push(r);
  }
  return { kept, removed };
}
