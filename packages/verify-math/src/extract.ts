import { fallbackAnswer } from './fallback.js';
import type { ExtractOptions } from './types.js';

export type ExtractionSource = 'boxed' | 'fbox' | 'final-answer' | 'answer-colon' | 'math-span' | 'whole' | 'none';

export interface Extraction {
  /** The raw answer text (the last complete box), or null when the response holds no answer. */
  answer: string | null;
  /** Where it came from. The fallbacks (`final-answer`, `answer-colon`, `math-span`, `whole`) need `fallbacks: true`. */
  source: ExtractionSource;
  /**
   * Every complete top-level box of the final section, in order (empty without boxes). Several
   * boxes are compared as one list only against a gold answer with several parts.
   */
  boxes: string[];
}

const THINK_CLOSE = '</think>';

/** The part of a response that may hold the final answer: after the last `</think>`, or all of it. */
export function finalSection(response: string): string {
  const i = response.lastIndexOf(THINK_CLOSE);
  return i < 0 ? response : response.slice(i + THINK_CLOSE.length);
}

/**
 * Extracts the final answer: the content of the last `\boxed{...}` / `\fbox{...}` whose braces
 * balance (at any depth). Fallbacks (answer phrases, the last math span, a short bare answer) are
 * used only when `options.fallbacks` is set and there is no box. Never guesses from a number in
 * prose. Linear time in the response length.
 */
export function extractAnswer(response: string, options: ExtractOptions = {}): Extraction {
  const text = finalSection(response);
  const boxes = completeBoxes(text);
  const last = boxes[boxes.length - 1];
  if (last !== undefined) return { answer: last.answer, source: last.kind, boxes: boxes.map((b) => b.answer) };
  if (options.fallbacks === true) {
    const f = fallbackAnswer(text);
    if (f !== null) return { answer: f.answer, source: f.source, boxes: [] };
  }
  return { answer: null, source: 'none', boxes: [] };
}

const BOX_RE = /\\(boxed|fbox)(?![a-zA-Z])/g;

interface Box {
  answer: string;
  kind: 'boxed' | 'fbox';
  start: number;
  end: number;
}

/** Complete boxes not nested inside another complete box, in order. A truncated box is skipped. */
function completeBoxes(text: string): Box[] {
  const out: Box[] = [];
  let close: Int32Array | null = null;
  let coveredUntil = -1;
  for (const m of text.matchAll(BOX_RE)) {
    const at = (m.index ?? 0) + m[0].length;
    const kind = m[1] === 'fbox' ? 'fbox' : 'boxed';
    let i = at;
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= text.length) continue;
    let box: Box | null = null;
    if (text[i] === '{') {
      close ??= matchBraces(text);
      const j = close[i] ?? -1;
      if (j < 0) continue;
      const inner = text.slice(i + 1, j).trim();
      if (inner !== '') box = { answer: inner, kind, start: m.index ?? 0, end: j };
    } else {
      // `\boxed 5` or `\boxed5`: one token, as TeX reads it.
      const t = /^(\\[a-zA-Z]+|[^\s{}\\$]+)/.exec(text.slice(i, i + 200));
      if (t && t[1] !== undefined) box = { answer: t[1].replace(/[.,;]+$/, ''), kind, start: m.index ?? 0, end: i + t[1].length };
    }
    if (box === null) continue;
    if (box.start < coveredUntil) {
      // A box inside the previous one (`\boxed{\boxed{4}}`): the inner one is the answer.
      out[out.length - 1] = box;
      continue;
    }
    out.push(box);
    coveredUntil = box.end;
  }
  return out;
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
