/** Tokens of a normalised answer. */
export type Token =
  | { t: 'num'; v: string }
  | { t: 'id'; v: string }
  | { t: 'fn'; v: string }
  | { t: 'word'; v: string }
  | { t: 'op'; v: string };

/** Thrown for input the built-in parser does not read; the caller may try another backend. */
export class ParseFailure extends Error {
  override readonly name = 'ParseFailure';
}

const FUNCTIONS = new Set([
  'sin', 'cos', 'tan', 'sec', 'csc', 'cot', 'arcsin', 'arccos', 'arctan', 'arccot', 'arcsec', 'arccsc', 'sinh', 'cosh', 'tanh',
  'log', 'ln', 'lg', 'exp', 'sqrt', 'abs', 'max', 'min', 'gcd', 'lcm', 'det',
]);
const GREEK = new Set([
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta', 'iota', 'kappa',
  'lambda', 'mu', 'nu', 'xi', 'rho', 'sigma', 'tau', 'upsilon', 'phi', 'varphi', 'chi', 'psi', 'omega',
  'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Sigma', 'Phi', 'Psi', 'Omega',
]);
/** Commands that are operators or structure; anything else unknown makes the parse fail. */
const OPS = new Set([
  'frac', 'sqrt', 'binom', 'cdot', 'times', 'div', 'le', 'ge', 'ne', 'approx', 'cup', 'cap', 'pm', 'mp',
  'infty', 'pi', 'emptyset', 'mathbbR', 'in', 'setminus', 'langle', 'rangle', 'lfloor', 'rfloor', 'lceil',
  'rceil', 'ldots', 'to', 'wedge', 'vee', 'land', 'lor', 'neg', 'prime', 'equiv', 'sim', 'cong', 'perp',
  'parallel', 'angle', 'triangle', 'overline', 'hat', 'vec', 'bar', 'tilde', 'mathbb', 'mathcal', 'deg',
  'sum', 'prod',
]);
const PLAIN_WORDS: Record<string, Token> = {
  or: { t: 'op', v: ',' },
  and: { t: 'op', v: ',' },
  pi: { t: 'op', v: '\\pi' },
  inf: { t: 'op', v: '\\infty' },
  infty: { t: 'op', v: '\\infty' },
  infinity: { t: 'op', v: '\\infty' },
  oo: { t: 'op', v: '\\infty' },
};

/** Short words that are answers in themselves, not products of variables. */
const TEXT_WORDS = new Set(['yes', 'no', 'odd', 'even', 'none', 'true', 'false', 'all', 'both', 'neither', 'never', 'always', 'dne']);

export function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    if ((c >= '0' && c <= '9') || (c === '.' && /\d/.test(s[i + 1] ?? ''))) {
      const m = /^(\d*\.?\d*)(?:[eE][+-]?\d+(?![a-zA-Z]))?/.exec(s.slice(i, i + 2000));
      const v = m?.[0] ?? c;
      // "2e" alone is 2 times e: only a digit after e makes scientific notation.
      out.push({ t: 'num', v });
      i += v.length;
      continue;
    }
    if (c === '\\') {
      const m = /^\\([a-zA-Z]+)/.exec(s.slice(i, i + 40));
      if (m && m[1] !== undefined) {
        const name = m[1];
        i += m[0].length;
        if (FUNCTIONS.has(name)) out.push({ t: 'fn', v: name });
        else if (GREEK.has(name)) out.push({ t: 'id', v: name });
        else if (OPS.has(name)) out.push({ t: 'op', v: `\\${name}` });
        else if (name === 'begin' || name === 'end') out.push({ t: 'op', v: `\\${name}` });
        else throw new ParseFailure(`unknown command \\${name}`);
        continue;
      }
      const n = s[i + 1] ?? '';
      if (n === '\\') out.push({ t: 'op', v: '\\\\' });
      else if (n === '{' || n === '}') out.push({ t: 'op', v: `\\${n}` });
      else if (n === '|') out.push({ t: 'op', v: '|' });
      else if (n === '%') out.push({ t: 'op', v: '%' });
      else throw new ParseFailure(`unknown escape \\${n}`);
      i += 2;
      continue;
    }
    if (/[a-zA-Z]/.test(c)) {
      const m = /^[a-zA-Z]+/.exec(s.slice(i, i + 200));
      const w = m?.[0] ?? c;
      i += w.length;
      pushWord(out, w);
      continue;
    }
    if ('+-*/^_=<>(){}[],;|!&\':'.includes(c)) {
      out.push({ t: 'op', v: c === ';' ? ',' : c });
      i++;
      continue;
    }
    throw new ParseFailure(`unexpected character ${JSON.stringify(c)}`);
  }
  return out;
}

function pushWord(out: Token[], w: string): void {
  const lower = w.toLowerCase();
  const special = PLAIN_WORDS[lower];
  if (special !== undefined) {
    out.push(special);
    return;
  }
  if (FUNCTIONS.has(lower)) {
    out.push({ t: 'fn', v: lower });
    return;
  }
  if (TEXT_WORDS.has(lower)) {
    out.push({ t: 'word', v: lower });
    return;
  }
  if (w.length === 1) {
    out.push({ t: 'id', v: w });
    return;
  }
  if (w.length <= 3) {
    // "xy" is x times y.
    for (const ch of w) out.push({ t: 'id', v: ch });
    return;
  }
  out.push({ t: 'word', v: lower });
}
