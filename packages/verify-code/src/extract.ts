import type { CodeLanguage } from './verdict.js';

export interface ExtractedProgram {
  language: CodeLanguage;
  code: string;
}

const FENCE = /```[ \t]*(python3?|py|cpp|c\+\+|cc|cxx)[ \t]*\r?\n([\s\S]*?)```/gi;

function languageOf(tag: string): CodeLanguage {
  const t = tag.toLowerCase();
  return t.startsWith('py') ? 'python' : 'cpp';
}

/**
 * The program of a model response: the last ```python (or ```cpp) block after `</think>` (the whole
 * response when it has no think block at all). Returns null when there is no such block.
 */
export function extractProgram(response: string): ExtractedProgram | null {
  const end = response.lastIndexOf('</think>');
  // Reasoning that never closed (a truncated response) has no answer part.
  if (end < 0 && response.includes('<think>')) return null;
  const answer = end >= 0 ? response.slice(end + '</think>'.length) : response;
  let last: ExtractedProgram | null = null;
  for (const m of answer.matchAll(FENCE)) {
    const tag = m[1];
    const body = m[2];
    if (tag === undefined || body === undefined) continue;
    last = { language: languageOf(tag), code: body };
  }
  if (last !== null && last.code.trim() === '') return null;
  return last;
}
