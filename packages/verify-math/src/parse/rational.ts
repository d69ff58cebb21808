/** Exact rationals on bigint, with a size guard so that no operation can build a giant number. */
export interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

/** Largest numerator or denominator (in bits) an exact result may have; beyond it we go inexact. */
export const MAX_EXACT_BITS = 4096;

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function bits(x: bigint): number {
  return (x < 0n ? -x : x).toString(16).length * 4;
}

export function rat(n: bigint, d: bigint = 1n): Rational | null {
  if (d === 0n) return null;
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  if (g > 1n) {
    n /= g;
    d /= g;
  }
  if (bits(n) > MAX_EXACT_BITS || bits(d) > MAX_EXACT_BITS) return null;
  return { n, d };
}

export const ZERO: Rational = { n: 0n, d: 1n };
export const ONE: Rational = { n: 1n, d: 1n };

export const add = (a: Rational, b: Rational): Rational | null => rat(a.n * b.d + b.n * a.d, a.d * b.d);
export const sub = (a: Rational, b: Rational): Rational | null => rat(a.n * b.d - b.n * a.d, a.d * b.d);
export const mul = (a: Rational, b: Rational): Rational | null => rat(a.n * b.n, a.d * b.d);
export const div = (a: Rational, b: Rational): Rational | null => (b.n === 0n ? null : rat(a.n * b.d, a.d * b.n));
export const neg = (a: Rational): Rational => ({ n: -a.n, d: a.d });
export const eq = (a: Rational, b: Rational): boolean => a.n === b.n && a.d === b.d;
export const isInt = (a: Rational): boolean => a.d === 1n;

/** a^e for an integer e, or null when the result would exceed the size guard. */
export function pow(a: Rational, e: Rational): Rational | null {
  if (e.d !== 1n) return null;
  const k = e.n < 0n ? -e.n : e.n;
  if (k === 0n) return a.n === 0n ? null : ONE;
  const base = Math.max(bits(a.n), bits(a.d));
  if (a.n === 0n) return e.n > 0n ? ZERO : null;
  if ((a.n === 1n || a.n === -1n) && a.d === 1n) return { n: k % 2n === 0n ? 1n : a.n, d: 1n };
  if (k > 100000n || base * Number(k) > MAX_EXACT_BITS) return null;
  const r = rat(a.n ** k, a.d ** k);
  if (r === null) return null;
  return e.n < 0n ? div(ONE, r) : r;
}

export function toNumber(a: Rational): number {
  const n = Number(a.n);
  const d = Number(a.d);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // Scale both down so that the quotient survives the conversion.
  const shift = BigInt(Math.max(bits(a.n), bits(a.d)) - 1000);
  return Number(a.n >> shift) / Number(a.d >> shift);
}

/** Integer square root when `a` is a perfect square of a rational, else null. */
export function exactSqrt(a: Rational): Rational | null {
  if (a.n < 0n) return null;
  const rn = isqrt(a.n);
  const rd = isqrt(a.d);
  if (rn === null || rd === null) return null;
  return { n: rn, d: rd };
}

function isqrt(x: bigint): bigint | null {
  if (x < 0n) return null;
  if (x < 2n) return x;
  // Newton's iteration from above converges to floor(sqrt(x)).
  let r = 1n << BigInt(Math.ceil((x.toString(2).length + 1) / 2));
  for (;;) {
    const next = (r + x / r) >> 1n;
    if (next >= r) break;
    r = next;
  }
  return r * r === x ? r : null;
}

/** Parses "123", "1.25", "-0.5", "1.5e3" exactly. */
export function parseDecimal(s: string): Rational | null {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return null;
  const [, sign = '', ip = '', fp = '', ex = '0'] = m;
  if (ip === '' && fp === '') return null;
  const e = Number(ex);
  if (Math.abs(e) > 1000) return null;
  let n = BigInt((ip || '0') + fp);
  let d = 10n ** BigInt(fp.length);
  if (e > 0) n *= 10n ** BigInt(e);
  else if (e < 0) d *= 10n ** BigInt(-e);
  if (sign === '-') n = -n;
  return rat(n, d);
}

export function ratToString(a: Rational): string {
  return a.d === 1n ? a.n.toString() : `${a.n}/${a.d}`;
}
