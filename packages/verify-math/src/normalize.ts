import { applyDigitGrammar, type GrammarOptions } from './grammar.js';

/**
 * String-level normalisation of a LaTeX or plain-text answer into one canonical spelling. The
 * result is what the cache is keyed by and what the parser reads. Every rule is a linear-time
 * regex or scan: this runs on the caller's thread.
 */

const UNICODE: [RegExp, string][] = [
  [/[−–—]/g, '-'],
  [/π/g, '\\pi '],
  [/∞/g, '\\infty '],
  [/√/g, '\\sqrt'],
  [/×/g, '\\times '],
  [/[·⋅]/g, '\\cdot '],
  [/≤/g, '\\le '],
  [/≥/g, '\\ge '],
  [/≠/g, '\\ne '],
  [/∪/g, '\\cup '],
  [/∩/g, '\\cap '],
  [/±/g, '\\pm '],
  [/°/g, '\\circ '],
  [/∅/g, '\\emptyset '],
];

// Each unit word must end at a word boundary, and "square"/"cubic" exist only as a prefix, so a
// run of units splits one way only: no catastrophic backtracking on inputs like "5 mmmm...x".
/** Commands whose braced argument is kept as plain content. */
const UNWRAP = /\\(?:text|textbf|textit|textrm|textup|texttt|textnormal|mathrm|mathbf|mathit|mathsf|mathtt|mbox|operatorname|boldsymbol|bm|hbox|rm|bf|displaystyle|textstyle|scriptstyle)\s*\{([^{}]*)\}/g;

const UNIT_WORDS = [
  'units?', 'unit squares?',
  'cm', 'mm', 'km', 'm', 'in', 'ft', 'yd', 'mi', 'mph', 'kg', 'g', 'mg', 'lb', 'lbs', 'oz', 'ml', 'l',
  'centimeters?', 'millimeters?', 'kilometers?', 'meters?', 'metres?', 'inch(?:es)?', 'feet', 'foot', 'yards?', 'miles?',
  'grams?', 'kilograms?', 'pounds?', 'ounces?', 'liters?', 'litres?', 'gallons?',
  'seconds?', 'secs?', 'minutes?', 'mins?', 'hours?', 'hrs?', 'days?', 'weeks?', 'months?', 'years?',
  'degrees?', 'radians?', 'dollars?', 'cents?', 'percent', 'points?', 'people', 'persons?', 'students?',
  'ways?', 'times', 'items?', 'coins?', 'marbles?', 'books?', 'apples?', 'boxes', 'balls?', 'cards?',
  'squared', 'cubed',
];
const TRAILING_UNIT = new RegExp(`([0-9}.)])\\s*(?:(?:(?:square|sq\\.?|cubic)\\s+)?(?:${UNIT_WORDS.join('|')})\\b(?:\\s*\\^\\s*\\{?[23]\\}?)?\\s*)+$`, 'i');

export function normalizeAnswer(raw: string, options: GrammarOptions = {}): string {
  let s = mixedNumbers(raw.trim());
  for (const [re, to] of UNICODE) s = s.replace(re, to);

  // Math delimiters and display wrappers.
  s = s.replace(/(?<!\\)\\[()[\]]/g, ' ').replace(/\$/g, ' ').replace(/\\\$/g, ' ');
  s = s.replace(/\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![a-zA-Z])/g, '');
  s = s.replace(/\\boxed\s*\{/g, '{');

  // Sizing: \left( \right] \bigl| ... keep the delimiter, drop the size. `\left.` is no delimiter.
  s = s.replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)(?![a-zA-Z])\s*\.?/g, '');

  // Text-like wrappers (innermost first; bounded passes keep this linear in practice).
  for (let pass = 0; pass < 8; pass++) {
    const next = s.replace(UNWRAP, ' $1 ');
    if (next === s) break;
    s = next;
  }
  s = s.replace(/\\mathbb\s*\{?\s*R\s*\}?/g, '\\mathbbR ');

  // Digit groups and decimal marks (explicit separators first, before spacing commands go).
  s = applyDigitGrammar(s, options);
  s = s.replace(/(?<!\\)\\[!,;: ]/g, ' ').replace(/\\q?quad(?![a-zA-Z])/g, ' ').replace(/~/g, ' ');

  // Spelled-out commands to one spelling.
  s = s.replace(/\\[dtc]frac(?![a-zA-Z])/g, '\\frac').replace(/\\[dt]binom(?![a-zA-Z])/g, '\\binom');
  s = s.replace(/\\(?:leq|leqslant|le)(?![a-zA-Z])/g, '\\le ').replace(/\\(?:geq|geqslant|ge)(?![a-zA-Z])/g, '\\ge ');
  s = s.replace(/\\(?:neq|ne)(?![a-zA-Z])/g, '\\ne ').replace(/\\lt(?![a-zA-Z])/g, '<').replace(/\\gt(?![a-zA-Z])/g, '>');
  s = s.replace(/<=/g, '\\le ').replace(/>=/g, '\\ge ').replace(/!=/g, '\\ne ');
  s = s.replace(/\\(?:varnothing|emptyset)(?![a-zA-Z])/g, '\\emptyset ').replace(/\\\{\s*\\\}/g, '\\emptyset ');
  s = s.replace(/\\lbrace(?![a-zA-Z])/g, '\\{').replace(/\\rbrace(?![a-zA-Z])/g, '\\}');
  s = s.replace(/\\(?:lvert|rvert|vert|mid)(?![a-zA-Z])/g, '|');
  s = s.replace(/\\(?:dots|ldots|cdots)(?![a-zA-Z])/g, '\\ldots ');
  s = s.replace(/\\(?:to|rightarrow|implies|Rightarrow)(?![a-zA-Z])/g, ' \\to ');
  s = s.replace(/\*\*/g, '^');

  // Degrees and percent (words too: "28 percent", "28 pct").
  s = s.replace(/(\d|\}|\))\s*(?:percent(?:age)?|pct)(?![a-zA-Z])/gi, '$1\\%');
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree/g, ' ');
  // A percent sign is kept as one trailing marker: 50\% may be meant as 50 or as 0.5.
  const percent = /%/.test(s);
  s = s.replace(/\\?%/g, ' ');

  // Short forms: \frac12, \frac1{x}, \frac{x}2, \sqrt2, \sqrt x.
  s = s.replace(/\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])/g, '\\frac{$1}{$2}');
  s = s.replace(/\\frac\s*([0-9a-zA-Z])\s*\{/g, '\\frac{$1}{');
  s = s.replace(/\\frac\s*\{([^{}]*)\}\s*([0-9a-zA-Z])/g, '\\frac{$1}{$2}');
  s = s.replace(/\\sqrt\s*([0-9a-zA-Z])/g, '\\sqrt{$1}');

  // Units, when they trail a number.
  s = s.replace(/\s+/g, ' ').trim();
  s = stripTrailingUnits(s);

  // Digit groups again: units and wrappers are gone now ("\$1,000.99" -> "1,000.99").
  s = applyDigitGrammar(s, options);

  // Repeating decimals: 0.\overline{3} = 1/3, 1.2\overline{45} = 1.2454545...
  s = s.replace(/(\d{0,30})\.(\d{0,30})\\overline\s*\{(\d{1,30})\}/g, (_m, i: string, a: string, b: string) => repeatingToFraction(i, a, b));

  // Mixed numbers: 3\frac{1}{2} -> (3+\frac{1}{2}); base subscripts: 204_5, 1011_{2} -> digits.
  s = s.replace(/(?<![\d.}^_a-zA-Z])(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}/g, '($1+\\frac{$2}{$3})');
  s = s.replace(/(?<![\w.])(\d+)_\{?\(?(\d{1,2})\)?\}?/g, '$1');

  // A value written as "= 5" or "\approx 5" (the left side was in the prose).
  s = s.replace(/^\s*(?:=|\\approx(?![a-zA-Z]))\s*/, '');

  // An ellipsis is content (`1, 2, 3, \\ldots` is an endless list), not sentence punctuation.
  s = s.replace(/\.{3,}|…/g, ' \\ldots ');
  // Trailing punctuation, whitespace.
  s = s.replace(/[\s.,;:?]+$/g, '').replace(/^[\s,;:]+/, '');
  s = s.replace(/\s+/g, ' ').trim();
  // One spelling for the cache key: no space inside brackets, ", " between items.
  s = s.replace(/([([{])\s+/g, '$1').replace(/\s+([)\]},])/g, '$1').replace(/,(?=\S)/g, ', ');
  return percent && s !== '' ? `${s}\\%` : s;
}

function repeatingToFraction(int: string, fixed: string, rep: string): string {
  const whole = BigInt(`${int || '0'}${fixed}${rep}`) - BigInt(`${int || '0'}${fixed}`);
  const den = 10n ** BigInt(fixed.length) * (10n ** BigInt(rep.length) - 1n);
  return `\\frac{${whole}}{${den}}`;
}

function stripTrailingUnits(s: string): string {
  // Repeat: "5 \text{ cm}^2" and "12 square feet" both end in units.
  for (let k = 0; k < 3; k++) {
    const m = TRAILING_UNIT.exec(s);
    if (!m || m.index === undefined) break;
    const kept = s.slice(0, m.index + (m[1]?.length ?? 0)).trim();
    if (kept === '' || kept === s) break;
    s = kept;
  }
  // A leading currency sign.
  return s.replace(/^\\\$\s*/, '');
}

/**
 * `4 4/9` is the mixed number 40/9 (one literal space, a proper fraction): `(4+4/9)`. An improper
 * or undefined one (`11 7/6`, `4 0/0`) is refused as unreadable. A line break or anything but
 * digits (`11/10 4/9`, `11.0 4/9`, `(11) 4/9`) never forms one.
 */
function mixedNumbers(s: string): string {
  return s.replace(/(?<![\d./^_}a-zA-Z])(\d{1,3}(?: \d{3})+|\d+) (\d+)\/(\d+)(?![\d/.])/g, (m, whole: string, n: string, d: string) => {
    const num = BigInt(n.length > 30 ? '0' : n);
    const den = BigInt(d.length > 30 ? '0' : d);
    if (den === 0n || num >= den) return `\\unreadablemixednumber{${m}}`;
    return `(${whole}+${n}/${d})`;
  });
}
