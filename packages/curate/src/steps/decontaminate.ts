/**
 * Decontamination: a training problem that shares any n-word sequence with a benchmark item is
 * removed, and the removal names the benchmark file and item it matched.
 */
import { basename } from 'node:path';
import { readRecords, type Obj } from '../ingest/read.js';
import { words } from '../text.js';
import type { CurateRow, Removal, RowError } from '../types.js';

export interface BenchmarkItem {
  /** `file#id`: which benchmark and which item. */
  ref: string;
  text: string;
}

const TEXT_KEYS = ['problem', 'question', 'question_content', 'description', 'prompt', 'content', 'text'] as const;
const ID_KEYS = ['id', 'problem_id', 'question_id', 'task_id', 'unique_id', 'name'] as const;

/** Reads a benchmark file (JSON lines or a JSON array, any of the accepted shapes). */
export function readBenchmark(text: string, file: string): { items: BenchmarkItem[]; errors: RowError[] } {
  const { records, errors } = readRecords(text);
  const items: BenchmarkItem[] = [];
  const name = basename(file);
  for (const { line, value } of records) {
    if (typeof value === 'string') {
      items.push({ ref: `${name}#${line}`, text: value });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      errors.push({ line, message: 'benchmark row is not an object' });
      continue;
    }
    const o = value as Obj;
    const key = TEXT_KEYS.find((k) => typeof o[k] === 'string' && o[k] !== '');
    if (key === undefined) {
      errors.push({ line, message: `benchmark row has no text field (${TEXT_KEYS.join(', ')})` });
      continue;
    }
    const idKey = ID_KEYS.find((k) => typeof o[k] === 'string' || typeof o[k] === 'number');
    items.push({ ref: `${name}#${idKey === undefined ? `line ${line}` : String(o[idKey])}`, text: o[key] as string });
  }
  return { items, errors };
}

export class NgramIndex {
  private readonly grams = new Map<string, string>();
  /** Items shorter than n words match only a problem with the same words (a short text is too common to match inside one). */
  private readonly short = new Map<string, string>();

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError('n must be a positive integer');
  }

  add(item: BenchmarkItem): void {
    const w = words(item.text);
    if (w.length === 0) return;
    if (w.length < this.n) {
      const seq = w.join(' ');
      if (!this.short.has(seq)) this.short.set(seq, item.ref);
      return;
    }
    for (let i = 0; i + this.n <= w.length; i++) {
      const g = w.slice(i, i + this.n).join(' ');
      if (!this.grams.has(g)) this.grams.set(g, item.ref);
    }
  }

  /** The first benchmark item sharing an n-gram with `text`, with the n-gram. */
  match(text: string): { ref: string; ngram: string } | undefined {
    const w = words(text);
    for (let i = 0; i + this.n <= w.length; i++) {
      const g = w.slice(i, i + this.n).join(' ');
      const ref = this.grams.get(g);
      if (ref !== undefined) return { ref, ngram: g };
    }
    const seq = w.join(' ');
    const ref = this.short.get(seq);
    return ref === undefined ? undefined : { ref, ngram: seq };
  }
}

export function decontaminate(rows: readonly CurateRow[], index: NgramIndex): { kept: CurateRow[]; removed: Removal[] } {
  const kept: CurateRow[] = [];
  const removed: Removal[] = [];
  for (const r of rows) {
    const m = index.match(r.problem);
    if (m) removed.push({ id: r.id, line: r.line, step: 'decontaminate', reason: 'benchmark_overlap', matched: m.ref, detail: `${index.n}-gram "${m.ngram}"` });
    else kept.push(r);
  }
  return { kept, removed };
}
