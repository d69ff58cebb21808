/**
 * Judge-style comparison of program output with the expected output: lines and tokens compared
 * with whitespace ignored, numbers compared as exact decimals, and with a tolerance only where the
 * expected token is a float. Case matters.
 */
export interface CompareOptions {
  /** Absolute or relative tolerance for float tokens (default 1e-6). */
  floatTolerance?: number;
}

export type CompareResult = { ok: true } | { ok: false; reason: string };

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Canonical form of a decimal token (sign, digits, exponent) or null if it is not a number. */
export function canonicalDecimal(token: string): string | null {
  const m = DECIMAL.exec(token);
  if (m === null) return null;
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  if (intPart === '' && frac === '') return null;
  let digits = intPart + frac;
  let exp = (m[4] === undefined ? 0 : Number(m[4])) - frac.length;
  if (!Number.isSafeInteger(exp)) return null;
  digits = digits.replace(/^0+/, '');
  if (digits === '') return '0';
  const trailing = /0*$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  exp += trailing;
  return `${m[1] === '-' ? '-' : ''}${digits}e${exp}`;
}

function isFloatToken(token: string): boolean {
  return /[.eE]/.test(token) && canonicalDecimal(token) !== null;
}

export function tokensEqual(expected: string, actual: string, tolerance: number): boolean {
  if (expected === actual) return true;
  const ce = canonicalDecimal(expected);
  if (ce === null) return false;
  const ca = canonicalDecimal(actual);
  if (ca === null) return false;
  if (ce === ca) return true;
  if (!isFloatToken(expected)) return false;
  const e = Number(expected);
  const a = Number(actual);
  if (!Number.isFinite(e) || !Number.isFinite(a)) return false;
  return Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e));
}

function lines(text: string): string[][] {
  const trimmed = text.replace(/\r\n?/g, '\n').trim();
  if (trimmed === '') return [];
  return trimmed.split('\n').map((l) => l.trim().split(/\s+/).filter((t) => t !== ''));
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** Compares stdout of a program with the expected stdout. */
export function compareOutput(expected: string, actual: string, options: CompareOptions = {}): CompareResult {
  const tol = options.floatTolerance ?? 1e-6;
  const e = lines(expected);
  const a = lines(actual);
  if (e.length !== a.length) return { ok: false, reason: `expected ${e.length} lines, got ${a.length}` };
  for (let i = 0; i < e.length; i++) {
    const el = e[i] ?? [];
    const al = a[i] ?? [];
    if (el.length !== al.length) return { ok: false, reason: `line ${i + 1}: expected ${el.length} tokens, got ${al.length}` };
    for (let j = 0; j < el.length; j++) {
      const et = el[j] ?? '';
      const at = al[j] ?? '';
      if (!tokensEqual(et, at, tol)) return { ok: false, reason: `line ${i + 1} token ${j + 1}: expected ${clip(et)}, got ${clip(at)}` };
    }
  }
  return { ok: true };
}

/**
 * Compares a JSON return value (already parsed in this process) with the expected value. Numbers
 * follow the same rule as tokens: exact unless the expected number is not an integer.
 */
export function compareJson(expected: unknown, actual: unknown, options: CompareOptions = {}): boolean {
  const tol = options.floatTolerance ?? 1e-6;
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return false;
    if (expected === actual) return true;
    if (Number.isInteger(expected)) return false;
    return Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected));
  }
  if (expected === null || typeof expected !== 'object') return expected === actual;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    return expected.every((v, i) => compareJson(v, actual[i], options));
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  const ek = Object.keys(expected);
  const ak = Object.keys(actual);
  if (ek.length !== ak.length) return false;
  const eo = expected as Record<string, unknown>;
  const ao = actual as Record<string, unknown>;
  return ek.every((k) => Object.prototype.hasOwnProperty.call(ao, k) && compareJson(eo[k], ao[k], options));
}
