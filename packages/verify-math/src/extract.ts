import type { ExtractOptions } from './types.js';

export interface Extraction {
  /** The raw answer text, or null when the response holds no answer. */
  answer: string | null;
  /** Where it came from: `boxed`, `fbox`, `final-answer`, `answer-colon`, or `none`. */
  source: 'boxed' | 'fbox' | 'final-answer' | 'answer-colon' | 'none';
}

const THINK_CLOSE = '</think>';

/** The part of a response that may hold the final answer: after the last `</think>`, or all of it. */
export function finalSection(response: string): string {
  const i = response.lastIndexOf(THINK_CLOSE);
  return i < 0 ? response : response.slice(i + THINK_CLOSE.length);
}

/**
 * Extracts the final answer: the content of the last `\boxed{...}` / `\fbox{...}` whose braces
 * balance (at any depth). Fallback phrases are only used when `options.fallbacks` is set.
 * Never guesses from intermediate numbers. Runs in linear time in the response length.
 */
export function extractAnswer(response: string, options: ExtractOptions = {}): Extraction {
  const text = finalSection(response);
  const boxed = lastBoxed(text);
  if (boxed !== null) return boxed;
  if (options.fallbacks === true) {
    const phrase = lastPhrase(text);
    if (phrase !== null) return phrase;
  }
  return { answer: null, source: 'none' };
}

const BOX_RE = /\\(boxed|fbox)(?![a-zA-Z])/g;

function lastBoxed(text: string): Extraction | null {
  const starts: { at: number; kind: 'boxed' | 'fbox' }[] = [];
  for (const m of text.matchAll(BOX_RE)) starts.push({ at: (m.index ?? 0) + m[0].length, kind: m[1] === 'fbox' ? 'fbox' : 'boxed' });
  if (starts.length === 0) return null;
  let close: Int32Array | null = null;
  for (let k = starts.length - 1; k >= 0; k--) {
    const s = starts[k];
    if (s === undefined) continue;
    let i = s.at;
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= text.length) continue;
    if (text[i] === '{') {
      close ??= matchBraces(text);
      const j = close[i] ?? -1;
      if (j < 0) continue;
      const inner = text.slice(i + 1, j).trim();
      if (inner === '') continue;
      return { answer: inner, source: s.kind };
    }
    // `\boxed 5` or `\boxed5`: one token, as TeX reads it.
    const m = /^(\\[a-zA-Z]+|[^\s{}\\$]+)/.exec(text.slice(i, i + 200));
    if (m && m[1] !== undefined) return { answer: m[1].replace(/[.,;]+$/, ''), source: s.kind };
  }
  return null;
}

/** For every `{` its matching `}` (escaped `\{ \}` are content, not structure); -1 when unmatched. */
export function matchBraces(text: string): Int32Array {
  const close = new Int32Array(text.length).fill(-1);
  const stack: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) {
      i++;
      continue;
    }
    if (c === 123 /* { */) stack.push(i);
    else if (c === 125 /* } */) {
      const o = stack.pop();
      if (o !== undefined) close[o] = i;
    }
  }
  return close;
}

const PHRASES: { re: RegExp; source: Extraction['source'] }[] = [
  { re: /final answer(?: is|:)[ \t]{0,20}(?:\*\*)?[ \t]{0,20}(.+)/gi, source: 'final-answer' },
  { re: /(?:^|\n)[ \t]{0,20}(?:\*\*)?answer(?:\*\*)?[ \t]{0,5}:[ \t]{0,20}(.+)/gi, source: 'answer-colon' },
];

function lastPhrase(text: string): Extraction | null {
  let best: { at: number; answer: string; source: Extraction['source'] } | null = null;
  for (const { re, source } of PHRASES) {
    for (const m of text.matchAll(re)) {
      const raw = cleanPhrase(m[1] ?? '');
      if (raw !== '' && (best === null || (m.index ?? 0) >= best.at)) best = { at: m.index ?? 0, answer: raw, source };
    }
  }
  return best === null ? null : { answer: best.answer, source: best.source };
}

function cleanPhrase(s: string): string {
  let t = s.trim();
  // A phrase this long is prose, not an answer; cutting it would change what it says.
  if (t.length > 500) return '';
  t = t.replace(/\*\*/g, '');
  const dollars = /^\$+([^$]+)\$+/.exec(t) ?? /^\\\((.+?)\\\)/.exec(t) ?? /^\\\[(.+?)\\\]/.exec(t);
  if (dollars && dollars[1] !== undefined) return dollars[1].trim();
  // A sentence ends at ". " or at the end; keep decimal points.
  t = t.replace(/\.\s.*$/, '').replace(/[.。]\s*$/, '');
  return t.trim();
}
