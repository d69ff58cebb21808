/**
 * The answer grammar for digit grouping and decimal marks (one place, so extraction, the cache key
 * and the parser agree):
 *
 * - An explicit TeX thousands separator (`1,\!000`, `1{,}000`, `14 {, }916`) always joins digits.
 * - A bare comma is a thousands separator only inside one number token with groups of exactly
 *   three digits (`1,000`, `1,000.99`, `12,000,023`), and only when that number stands alone at
 *   the top level of the answer. Inside brackets, braces or a list the comma separates elements:
 *   `(3,100)`, `[2,250)`, `\{2,250\}`, `x \in (1,500)` and `1,500, 2` are never numbers.
 *   `32, 349` (comma and space) is a list.
 * - Spaces group digits (`1 000 000`) when every group has three digits.
 * - Decimal comma (`decimalComma: true`, per dataset; off by default): a comma between digits is
 *   the decimal mark (`1000,99` = 1000.99, `1,22` = 1.22) and dots group thousands (`1.000,5`);
 *   elements are then separated by `;` or by a comma followed by a space.
 */
export interface GrammarOptions {
  decimalComma?: boolean;
}

const EXPLICIT = /(\d)\s*(?:\{\s*,\s*\}|,\s*\\!)\s*(?=\d{3}(?!\d))/g;
const GROUPED = /(?<![\d.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]|\.\d)/g;
const SPACED = /(?<![\d.])\d{1,3}(?: \d{3})+(?![\d.])/g;

export function applyDigitGrammar(s: string, options: GrammarOptions = {}): string {
  s = s.replace(EXPLICIT, '$1');
  if (options.decimalComma === true) {
    s = s.replace(/(?<![\d.])\d{1,3}(?:\.\d{3})+(?=,\d)/g, (m) => m.replace(/\./g, ''));
    s = s.replace(/(\d),(?=\d)/g, '$1.');
    return s.replace(SPACED, (m) => m.replace(/ /g, ''));
  }
  s = s.replace(GROUPED, (m, at: number, whole: string) => (standsAlone(whole, at, m.length) ? m.replace(/,/g, '') : m));
  return s.replace(SPACED, (m) => m.replace(/ /g, ''));
}

/** True when the number at [at, at+len) is at bracket depth 0 and no other top-level comma exists. */
function standsAlone(s: string, at: number, len: number): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
    else if (c === '\\' && s.startsWith('\\langle', i)) depth++;
    else if (c === '\\' && s.startsWith('\\rangle', i)) depth = Math.max(0, depth - 1);
    if (i === at && depth !== 0) return false;
    if (c === ',' && depth === 0 && (i < at || i >= at + len)) return false;
  }
  // A half-open interval or a set reaches the number with unbalanced openers only; depth 0 at `at` was checked.
  return true;
}
