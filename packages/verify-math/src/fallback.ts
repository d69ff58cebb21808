/**
 * Answers without a box, for evaluating models that were not trained to box (`fallbacks: true`;
 * off for rewards, where the box is the contract with the policy). In order: the last answer
 * phrase ("final answer is", "Final Answer:", "answer is", "Answer:"), then the last math span
 * (`$..$`, `$$..$$`, `\(..\)`, `\[..\]`), then a response that is itself a short answer. Never
 * the last number of a sentence.
 */
export interface FallbackAnswer {
  answer: string;
  source: 'final-answer' | 'answer-colon' | 'math-span' | 'whole';
}

/** A phrase longer than this is prose, not an answer; cutting it would change what it says. */
const MAX_PHRASE = 500;
/** A whole response up to this long, on one line, may be the answer itself ("7,425,000", "28 pct"). */
const MAX_WHOLE = 60;

const PHRASES: { re: RegExp; source: FallbackAnswer['source'] }[] = [
  { re: /final answer(?:\*\*)?[ \t]{0,5}(?:is|:)[ \t]{0,20}(?:\*\*)?[ \t]{0,20}([^\n]+)/gi, source: 'final-answer' },
  { re: /(?<![a-z])answer is[ \t]{0,5}:?[ \t]{0,20}([^\n]+)/gi, source: 'final-answer' },
  { re: /(?:^|\n)[ \t]{0,20}(?:\*\*)?answer(?:\*\*)?[ \t]{0,5}:[ \t]{0,20}([^\n]+)/gi, source: 'answer-colon' },
];

export function fallbackAnswer(text: string): FallbackAnswer | null {
  let best: { at: number; answer: string; source: FallbackAnswer['source'] } | null = null;
  for (const { re, source } of PHRASES) {
    for (const m of text.matchAll(re)) {
      const at = m.index ?? 0;
      if (best !== null && at < best.at) continue;
      const answer = phraseAnswer(m[1] ?? '');
      if (answer !== '') best = { at, answer, source };
    }
  }
  if (best !== null) return { answer: best.answer, source: best.source };
  const span = lastMathSpan(text);
  if (span !== null) return { answer: span, source: 'math-span' };
  const whole = text.trim();
  if (whole !== '' && whole.length <= MAX_WHOLE && !/\n/.test(whole) && onlyAnswerWords(whole)) return { answer: whole, source: 'whole' };
  return null;
}

/** A bare answer has no words of prose: runs of four or more letters are only percent words. */
function onlyAnswerWords(s: string): boolean {
  for (const m of s.replace(/\\[a-zA-Z]+/g, ' ').matchAll(/[a-zA-Z]{4,}/g)) if (!/^(?:percent|percentage)$/i.test(m[0])) return false;
  return true;
}

/** What a phrase says: the first sentence; "The final answer is X" and "The largest n is X" give X. */
function phraseAnswer(s: string): string {
  let t = s.trim();
  if (t.length > MAX_PHRASE) return '';
  t = t.replace(/\*\*/g, '');
  t = firstSentence(t);
  // "Final Answer: The final answer is $5$." -- the phrase repeated inside the line.
  for (let k = 0; k < 3; k++) {
    const inner = /^(?:the )?final answer (?:is|:)\s*/i.exec(t);
    if (inner === null) break;
    t = t.slice(inner[0].length);
  }
  // "The volume of $ABCD$ is 120": the value after the last " is " outside math.
  const is = lastOutsideMath(t, / is /g);
  if (is >= 0) t = t.slice(is + 4);
  t = t.replace(/^["'“]+|["'”]+$/g, '').trim();
  // A phrase that is one math span gives the span's content.
  const span = /^\$\$?([^$]+)\$\$?$/.exec(t) ?? /^\\\((.+)\\\)$/.exec(t) ?? /^\\\[(.+)\\\]$/.exec(t);
  return (span?.[1] ?? t).trim();
}

/** Cuts at the first ". " (or "。") that ends a sentence outside math; decimal points stay. */
function firstSentence(t: string): string {
  let inMath = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c === '\\' && (t[i + 1] === '$' || t[i + 1] === '(' || t[i + 1] === ')')) {
      if (t[i + 1] !== '$') inMath = t[i + 1] === '(';
      i++;
      continue;
    }
    if (c === '$') inMath = !inMath;
    else if (!inMath && (c === '.' || c === '。') && (i + 1 >= t.length || /\s/.test(t[i + 1] ?? ''))) return t.slice(0, i);
  }
  return t;
}

function lastOutsideMath(t: string, re: RegExp): number {
  let best = -1;
  for (const m of t.matchAll(re)) {
    const at = m.index ?? 0;
    const dollars = (t.slice(0, at).replace(/\\\$/g, '').match(/\$/g) ?? []).length;
    if (dollars % 2 === 0) best = at;
  }
  return best;
}

/** The content of the last complete math span; inline `$..$` and `\(..\)` stay on one line. */
export function lastMathSpan(text: string): string | null {
  let last: string | null = null;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && (text[i + 1] === '(' || text[i + 1] === '[')) {
      const closer = text[i + 1] === '(' ? '\\)' : '\\]';
      const j = text.indexOf(closer, i + 2);
      if (j < 0) break;
      const body = text.slice(i + 2, j);
      if (closer === '\\]' || !body.includes('\n')) last = body.trim() || last;
      i = j + 2;
      continue;
    }
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '$') {
      const display = text[i + 1] === '$';
      const open = display ? 2 : 1;
      const j = findDollar(text, i + open, display);
      if (j < 0) break;
      const body = text.slice(i + open, j);
      if (display || !body.includes('\n')) last = body.trim() || last;
      i = j + open;
      continue;
    }
    i++;
  }
  // Sentence punctuation written inside the span goes; an ellipsis stays (it is content).
  return last === null ? null : (/\.\.\.$/.test(last) ? last : last.replace(/[.,;:]+$/, '').trim()) || null;
}

function findDollar(text: string, from: number, display: boolean): number {
  for (let j = from; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') {
      j++;
      continue;
    }
    if (c === '$' && (!display || text[j + 1] === '$')) return j;
  }
  return -1;
}
