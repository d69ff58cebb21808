/**
 * Seeded randomness and sizing for the fuzz and load tests. A failure names its seed; rerun with
 * ACEREASON_FUZZ_SEED=<seed> to reproduce it. ACEREASON_FUZZ_ITERATIONS sets the number of inputs
 * per target; ACEREASON_LONG=1 multiplies the defaults (and picks a fresh seed unless one is given).
 */
import { packValue } from '@acereason/protocol';

export const LONG = process.env.ACEREASON_LONG === '1';

/** Inputs per target: the CI default, ten times it with ACEREASON_LONG=1, or the env override. */
export function iterations(ciDefault: number): number {
  const env = Number(process.env.ACEREASON_FUZZ_ITERATIONS);
  if (Number.isInteger(env) && env > 0) return env;
  return LONG ? ciDefault * 10 : ciDefault;
}

/** The seed of a test: ACEREASON_FUZZ_SEED, else a fixed one in CI and a fresh one for long runs. */
export function seedFor(fixed: number): number {
  const env = Number(process.env.ACEREASON_FUZZ_SEED);
  if (Number.isInteger(env) && env > 0) return env >>> 0;
  return LONG ? (Date.now() ^ (process.pid << 8)) >>> 0 || 1 : fixed;
}

export interface Rng {
  readonly seed: number;
  next(): number;
  int(maxExclusive: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Uint8Array;
}

/** xorshift32: small, fast and the same on every machine. */
export function rng(seed: number): Rng {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    pick: <T>(xs: readonly T[]): T => {
      if (xs.length === 0) throw new Error('pick from an empty list');
      return xs[int(xs.length)] as T;
    },
    chance: (p) => next() < p,
    bytes: (n) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = int(256);
      return b;
    },
  };
}

/** Runs `body`; a failure is rethrown with the seed in its message so it can be reproduced. */
export async function withSeed<T>(seed: number, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const wrapped = new Error(`[seed ${seed}; rerun with ACEREASON_FUZZ_SEED=${seed}] ${msg}`, { cause: err });
    if (err instanceof Error && err.stack) wrapped.stack = `${wrapped.message}\n${err.stack}`;
    throw wrapped;
  }
}

const WEIRD_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -(2 ** 31), '', 'x'.repeat(300), '\u0000\uffff\ud800',
  [], [1, 'a', null], {}, { nested: { deeper: [1, 2, 3] } }, new Uint8Array([1, 2, 3]), new Float64Array(3), new Uint32Array(5),
];

/** A random msgpack value, nested to at most `depth`. */
function randomValue(r: Rng, depth: number): unknown {
  if (depth <= 0 || r.chance(0.5)) return r.pick(WEIRD_VALUES);
  if (r.chance(0.5)) return Array.from({ length: r.int(5) }, () => randomValue(r, depth - 1));
  const o: Record<string, unknown> = {};
  for (let k = r.int(5); k > 0; k--) o[r.pick(['id', 'kind', 'schema', 'runId', 'x', 'responses', 'group', 'results', ''])] = randomValue(r, depth - 1);
  return o;
}

export type MutationKind = 'random_bytes' | 'bit_flip' | 'truncate' | 'splice' | 'wrong_type' | 'drop_field' | 'huge_array' | 'random_msgpack' | 'empty';

export const MUTATIONS: readonly MutationKind[] = ['random_bytes', 'bit_flip', 'truncate', 'splice', 'wrong_type', 'drop_field', 'huge_array', 'random_msgpack', 'empty'];

/**
 * A malformed-or-maybe-valid payload derived from `valid` (an encoded message) and its plain
 * object form `plain`. The caller decides validity with the real codec: a mutation may by chance
 * still decode, and then it must be delivered like any other valid message.
 */
export function mutate(r: Rng, valid: Uint8Array, plain: Record<string, unknown>, kind: MutationKind = r.pick(MUTATIONS)): Uint8Array {
  switch (kind) {
    case 'random_bytes':
      return r.bytes(1 + r.int(r.chance(0.1) ? 20_000 : 200));
    case 'empty':
      return new Uint8Array(0);
    case 'bit_flip': {
      const b = Uint8Array.from(valid);
      for (let k = 1 + r.int(8); k > 0; k--) {
        const i = r.int(b.length);
        b[i] = (b[i] ?? 0) ^ (1 << r.int(8));
      }
      return b;
    }
    case 'truncate':
      return valid.slice(0, r.int(valid.length));
    case 'splice': {
      // A byte range of the message copied over another place: field bytes in the wrong slot.
      const b = Uint8Array.from(valid);
      const len = 1 + r.int(Math.min(64, b.length));
      const from = r.int(Math.max(1, b.length - len));
      const to = r.int(Math.max(1, b.length - len));
      b.set(valid.subarray(from, from + len), to);
      return r.chance(0.3) ? Uint8Array.from([...b.subarray(0, to), ...valid.subarray(from)]) : b;
    }
    case 'wrong_type': {
      const keys = Object.keys(plain);
      const o: Record<string, unknown> = { ...plain };
      o[r.pick(keys)] = r.pick(WEIRD_VALUES);
      return packValue(o);
    }
    case 'drop_field': {
      const keys = Object.keys(plain);
      const o: Record<string, unknown> = { ...plain };
      delete o[r.pick(keys)];
      return packValue(o);
    }
    case 'huge_array': {
      // Large but within max_payload: 100k-200k numbers where a small field or typed array belongs.
      const keys = Object.keys(plain);
      const o: Record<string, unknown> = { ...plain };
      const n = 100_000 + r.int(100_000);
      o[r.pick(keys)] = r.chance(0.5) ? Array.from({ length: n }, (_, i) => i) : new Float64Array(n);
      return packValue(o);
    }
    case 'random_msgpack':
      return packValue(randomValue(r, 4));
  }
}
