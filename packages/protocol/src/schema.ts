/**
 * A small runtime schema: each schema parses `unknown` into a typed value or throws a
 * ValidationError whose field path names exactly what is wrong (e.g. `responses[3].tokens`).
 */
import { ValidationError } from './errors.js';

export interface Schema<T> {
  /** Human description used in error messages ("a string", "a Uint32Array", ...). */
  readonly expected: string;
  parse(value: unknown, path: string): T;
}
export type Infer<S> = S extends Schema<infer T> ? T : never;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  return `a ${typeof value}`;
}

function fail(path: string, expected: string, value: unknown): never {
  throw new ValidationError(path || '(root)', `expected ${expected}, got ${describe(value)}`);
}

export const string = (opts: { minLength?: number; maxLength?: number } = {}): Schema<string> => ({
  expected: 'a string',
  parse(value, path) {
    if (typeof value !== 'string') fail(path, 'a string', value);
    if (opts.minLength !== undefined && value.length < opts.minLength) {
      throw new ValidationError(path, `must have at least ${opts.minLength} characters`);
    }
    if (opts.maxLength !== undefined && value.length > opts.maxLength) {
      throw new ValidationError(path, `must have at most ${opts.maxLength} characters`);
    }
    return value;
  },
});

export const number = (opts: { min?: number; max?: number; integer?: boolean } = {}): Schema<number> => {
  const expected = opts.integer ? 'an integer' : 'a finite number';
  return {
    expected,
    parse(value, path) {
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, expected, value);
      if (opts.integer && !Number.isInteger(value)) fail(path, expected, value);
      if (opts.min !== undefined && value < opts.min) throw new ValidationError(path, `must be >= ${opts.min}, got ${value}`);
      if (opts.max !== undefined && value > opts.max) throw new ValidationError(path, `must be <= ${opts.max}, got ${value}`);
      return value;
    },
  };
};

export const integer = (opts: { min?: number; max?: number } = {}): Schema<number> => number({ ...opts, integer: true });

export const boolean = (): Schema<boolean> => ({
  expected: 'a boolean',
  parse(value, path) {
    if (typeof value !== 'boolean') fail(path, 'a boolean', value);
    return value;
  },
});

export const literal = <const L extends string | number>(lit: L): Schema<L> => ({
  expected: JSON.stringify(lit),
  parse(value, path) {
    if (value !== lit) throw new ValidationError(path, `expected ${JSON.stringify(lit)}, got ${JSON.stringify(value) ?? describe(value)}`);
    return lit;
  },
});

export const oneOf = <const L extends readonly string[]>(values: L): Schema<L[number]> => {
  const expected = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return {
    expected,
    parse(value, path) {
      if (typeof value !== 'string' || !values.includes(value)) {
        throw new ValidationError(path, `expected ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : describe(value)}`);
      }
      return value as L[number];
    },
  };
};

type TypedArrayCtor<A> = { new (n: number): A; readonly name: string; from(v: ArrayLike<number>): A };

function typedArray<A extends ArrayLike<number>>(ctor: TypedArrayCtor<A>, opts: { maxLength?: number }): Schema<A> {
  const expected = `a ${ctor.name}`;
  return {
    expected,
    parse(value, path) {
      if (!(value instanceof (ctor as unknown as new (...args: never[]) => A))) fail(path, expected, value);
      if (opts.maxLength !== undefined && value.length > opts.maxLength) {
        throw new ValidationError(path, `has ${value.length} elements, more than the limit ${opts.maxLength}`);
      }
      return value;
    },
  };
}
export const uint32Array = (opts: { maxLength?: number } = {}): Schema<Uint32Array> => typedArray(Uint32Array, opts);
export const float32Array = (opts: { maxLength?: number } = {}): Schema<Float32Array> => typedArray(Float32Array, opts);

export const array = <T>(item: Schema<T>, opts: { minLength?: number; maxLength?: number } = {}): Schema<T[]> => ({
  expected: `an array of ${item.expected}`,
  parse(value, path) {
    if (!Array.isArray(value)) fail(path, `an array`, value);
    if (opts.minLength !== undefined && value.length < opts.minLength) {
      throw new ValidationError(path, `must have at least ${opts.minLength} elements, got ${value.length}`);
    }
    if (opts.maxLength !== undefined && value.length > opts.maxLength) {
      throw new ValidationError(path, `must have at most ${opts.maxLength} elements, got ${value.length}`);
    }
    return value.map((v, i) => item.parse(v, `${path}[${i}]`));
  },
});

export const record = <T>(item: Schema<T>): Schema<Record<string, T>> => ({
  expected: `an object of ${item.expected}`,
  parse(value, path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) fail(path, 'an object', value);
    const out: Record<string, T> = {};
    for (const [k, v] of Object.entries(value)) out[k] = item.parse(v, path ? `${path}.${k}` : k);
    return out;
  },
});

/** Any JSON-like value, passed through untouched (for opaque payloads such as a task's reference). */
export const unknownValue = (): Schema<unknown> => ({ expected: 'any value', parse: (value) => value });

export interface Optional<T> extends Schema<T | undefined> {
  readonly optional: true;
}
export const optional = <T>(inner: Schema<T>): Optional<T> => ({
  optional: true,
  expected: `${inner.expected} (optional)`,
  parse(value, path) {
    return value === undefined || value === null ? undefined : inner.parse(value, path);
  },
});

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type ObjectOf<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined> };

/** An object with known fields. Unknown fields are dropped (forward compatibility). */
export const object = <S extends Shape>(shape: S): Schema<ObjectOf<S>> => ({
  expected: 'an object',
  parse(value, path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) fail(path, 'an object', value);
    const src = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(shape)) {
      const parsed = schema.parse(src[key], path ? `${path}.${key}` : key);
      if (parsed !== undefined) out[key] = parsed;
    }
    return out as ObjectOf<S>;
  },
});

/** A union told apart by a string field (e.g. `kind`). */
export const discriminated = <K extends string, M extends Record<string, Schema<unknown>>>(key: K, members: M): Schema<Infer<M[keyof M]>> => ({
  expected: `an object with ${key} in ${Object.keys(members).join(', ')}`,
  parse(value, path) {
    if (typeof value !== 'object' || value === null) fail(path, 'an object', value);
    const tag = (value as Record<string, unknown>)[key];
    const member = typeof tag === 'string' ? members[tag] : undefined;
    if (!member) {
      throw new ValidationError(path ? `${path}.${key}` : key, `expected one of ${Object.keys(members).join(', ')}, got ${JSON.stringify(tag) ?? describe(tag)}`);
    }
    return member.parse(value, path) as Infer<M[keyof M]>;
  },
});

/**
 * A schema with a check across its fields: `check` returns the offending field (relative to this
 * value) and the problem, or undefined when the value is fine.
 */
export const refine = <T>(inner: Schema<T>, check: (value: T) => { field: string; problem: string } | undefined): Schema<T> => ({
  expected: inner.expected,
  parse(value, path) {
    const parsed = inner.parse(value, path);
    const bad = check(parsed);
    if (bad) throw new ValidationError(path ? `${path}.${bad.field}` : bad.field, bad.problem);
    return parsed;
  },
});
