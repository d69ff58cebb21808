import { readJsonLines } from '@acereason/protocol';
import type { RowError } from '../types.js';

export interface RawRecord {
  line: number;
  value: unknown;
}

/**
 * Reads JSON lines or one JSON array. A line that is not JSON becomes a RowError naming its line;
 * for an array, "line" is the element's 1-based index.
 */
export function readRecords(text: string): { records: RawRecord[]; errors: RowError[] } {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    try {
      const arr = JSON.parse(trimmed) as unknown;
      if (Array.isArray(arr)) return { records: arr.map((value, i) => ({ line: i + 1, value })), errors: [] };
    } catch {
      // fall through: maybe JSON lines whose first row is an array
    }
  }
  const { rows, bad } = readJsonLines(text);
  return { records: rows, errors: bad };
}

/** Thrown by a row normaliser; the pipeline turns it into a RowError and goes on. */
export class RowFormatError extends Error {
  override readonly name = 'RowFormatError';
}

export type Obj = Record<string, unknown>;

export function asObject(v: unknown): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RowFormatError('expected a JSON object');
  return v as Obj;
}

/** The first of `keys` that holds a non-empty string. */
export function firstString(o: Obj, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v.trim() !== '') return v;
  }
  return undefined;
}

export function rowId(o: Obj, keys: readonly string[], fallback: string): string {
  for (const k of keys) {
    const v = o[k];
    if ((typeof v === 'string' && v !== '') || typeof v === 'number') return String(v);
  }
  return fallback;
}

/** Parses a field that may be JSON text (TACO/APPS/LiveCodeBench store lists as strings). */
export function maybeJson(v: unknown, field: string): unknown {
  if (typeof v !== 'string') return v;
  if (v.trim() === '') return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    throw new RowFormatError(`"${field}" is a string but not JSON`);
  }
}
