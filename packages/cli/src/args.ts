import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>>;

/** Strict flag parsing: an unknown flag or a missing value is a UsageError naming it. */
export function parseFlags<O extends Options>(args: string[], options: O, usage: string): Parsed<O> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.replace(/\. To specify a positional.*$/s, '') : String(err), `usage: ${usage}`);
  }
}

/**
 * A numeric flag value, or undefined when the flag is absent. A value that is not a number, not
 * whole when `integer`, or out of range is a UsageError naming the flag.
 */
export function numberFlag(flag: string, value: string | undefined, o: { integer?: boolean; min?: number; max?: number } = {}, usage?: string): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || (o.integer === true && !Number.isInteger(n)) || (o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) {
    const range = [o.min !== undefined ? `>= ${o.min}` : '', o.max !== undefined ? `<= ${o.max}` : ''].filter(Boolean).join(' and ');
    const name = flag.startsWith('--') ? flag : `--${flag}`;
    throw new UsageError(`${name}: expected ${o.integer === true ? 'a whole number' : 'a number'}${range ? ` ${range}` : ''}, got "${value}"`, usage === undefined ? undefined : `usage: ${usage}`);
  }
  return n;
}
