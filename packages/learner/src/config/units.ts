/** Human units in config: "8k" tokens, "30s" durations, "1e-6" rates. Errors name the field. */
import { ValidationError } from '@acereason/protocol';

/** "8k" -> 8192, "32K" -> 32768, "24000" -> 24000, 512 -> 512. k means 1024 (token budgets). */
export function parseTokens(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'string') {
    const m = value.trim().match(/^(\d+(?:\.\d+)?)\s*([kKmM]?)$/);
    if (m) {
      const n = Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2] ?? '') ? 1024 : 1024 * 1024);
      if (Number.isInteger(n) && n > 0) return n;
    }
  }
  throw new ValidationError(field, `expected a token count like 8192 or "8k", got ${JSON.stringify(value)}`);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s" -> 30000, "10m" -> 600000, "250ms" -> 250; a bare number is milliseconds. */
export function parseDuration(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = value.trim().match(/^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/);
    if (m) return Number(m[1]) * (DURATION_UNITS[m[2] ?? 'ms'] ?? 1);
  }
  throw new ValidationError(field, `expected a duration like "30s", "10m", "7d" or "250ms", got ${JSON.stringify(value)}`);
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** "20GB" -> 21474836480, "512MB", "64KB", 1000 -> 1000 (powers of 1024, as nats-server reads them). */
export function parseBytes(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'string') {
    const m = value.trim().match(/^(\d+(?:\.\d+)?)\s*([kmgt]?b?)$/i);
    const unit = BYTE_UNITS[(m?.[2] ?? 'x').toLowerCase()];
    if (m && unit !== undefined) {
      const n = Math.round(Number(m[1]) * unit);
      if (n > 0) return n;
    }
  }
  throw new ValidationError(field, `expected a size like "20GB", "512MB" or a byte count, got ${JSON.stringify(value)}`);
}

export function parseNumber(value: unknown, field: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new ValidationError(field, `expected a number, got ${JSON.stringify(value)}`);
  if (opts.integer && !Number.isInteger(n)) throw new ValidationError(field, `expected an integer, got ${n}`);
  if (opts.min !== undefined && n < opts.min) throw new ValidationError(field, `must be >= ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new ValidationError(field, `must be <= ${opts.max}, got ${n}`);
  return n;
}

export function parseString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(field, `expected a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

export function parseEnum<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ValidationError(field, `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export function parseBool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(field, `expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

export type RawObject = Record<string, unknown>;

/** The object at `field`, with unknown keys refused (a typo must not be silently ignored). */
export function section(value: unknown, field: string, known: readonly string[]): RawObject {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(field, `expected a mapping, got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
  for (const k of Object.keys(value)) {
    if (!known.includes(k)) throw new ValidationError(field ? `${field}.${k}` : k, `unknown setting (known: ${known.join(', ')})`);
  }
  return value as RawObject;
}
