import { ValidationError } from '@acereason/protocol';
import type { CodeTests } from './verdict.js';

/** One test as the runner uses it: the text the sandbox sees, and the expectation it never sees. */
export type PreparedTest =
  | { mode: 'stdin'; input: string; expected: string }
  | { mode: 'call'; input: string; expected: unknown };

/**
 * A function-call expectation is a typed JSON value, used as it is: the number 12 is a number and
 * the string "12" is a string (never parsed, so a task whose answer is `str(n)` accepts only the
 * string). Datasets that encode return values as JSON text (LiveCodeBench) are decoded by ingest.
 */
function typedExpected(raw: unknown, field: string): unknown {
  if (raw === undefined || typeof raw === 'function' || typeof raw === 'symbol' || typeof raw === 'bigint') throw new ValidationError(field, 'must be a JSON value');
  if (typeof raw === 'number' && !Number.isFinite(raw)) throw new ValidationError(field, 'must be a finite number');
  return raw;
}

/**
 * Function-call arguments: a JSON array is the argument list; a string holds one JSON value per
 * line, one per argument (the LiveCodeBench convention).
 */
function callArguments(raw: unknown, field: string): string {
  if (Array.isArray(raw)) return JSON.stringify(raw);
  if (typeof raw !== 'string') throw new ValidationError(field, 'must be a JSON array of arguments or a string of JSON lines');
  const args: unknown[] = [];
  for (const line of raw.split('\n')) {
    if (line.trim() === '') continue;
    try {
      args.push(JSON.parse(line));
    } catch (cause) {
      throw new ValidationError(field, `argument line is not JSON: ${line.slice(0, 60)}`, { cause });
    }
  }
  return JSON.stringify(args);
}

/** Validates a test set and turns it into runnable tests. Throws ValidationError naming the field. */
export function prepareTests(tests: CodeTests): PreparedTest[] {
  if (tests === null || typeof tests !== 'object') throw new ValidationError('tests', 'must be an object');
  const { inputs, outputs, fnName } = tests;
  if (!Array.isArray(inputs)) throw new ValidationError('tests.inputs', 'must be an array');
  if (!Array.isArray(outputs)) throw new ValidationError('tests.outputs', 'must be an array');
  if (inputs.length !== outputs.length) throw new ValidationError('tests.outputs', `has ${outputs.length} entries for ${inputs.length} inputs`);
  if (inputs.length === 0) throw new ValidationError('tests.inputs', 'is empty');
  if (fnName !== undefined && fnName !== null && fnName !== '') {
    if (typeof fnName !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(fnName)) throw new ValidationError('tests.fn_name', 'must be an identifier');
    return inputs.map((raw, i) => ({ mode: 'call', input: callArguments(raw, `tests.inputs[${i}]`), expected: typedExpected(outputs[i], `tests.outputs[${i}]`) }));
  }
  return inputs.map((raw, i) => {
    const out = outputs[i];
    if (typeof raw !== 'string') throw new ValidationError(`tests.inputs[${i}]`, 'must be a string');
    if (typeof out !== 'string') throw new ValidationError(`tests.outputs[${i}]`, 'must be a string');
    return { mode: 'stdin', input: raw, expected: out };
  });
}
