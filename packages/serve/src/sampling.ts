/**
 * From a resolved OpenAI request to the engine's GenerateRequests, and from its samples back to
 * choices: the text (without the stop token, cut before a stop string), token ids, logprobs.
 */
import { randomInt } from 'node:crypto';
import { stopStringChecker, type GenerateRequest, type GeneratedSample } from '@acereason/policy';
import { badParam } from './openai-error.js';
import type { SamplingRequest } from './request.js';
import type { ServedModel } from './served-model.js';

/** Called with each row's tokens and their logprobs so far while it decodes (streaming). */
export type TokenTap = (prompt: number, sample: number, tokens: readonly number[], logprobs: readonly number[]) => void;

export function generateRequests(m: ServedModel, r: SamplingRequest, prompts: Uint32Array[], tap?: TokenTap): GenerateRequest[] {
  const seed = r.seed ?? randomInt(0, 2 ** 31);
  const stopTokens = [...new Set([...m.stopTokenIds, ...r.stopTokenIds])];
  for (const t of r.stopTokenIds) if (t >= m.engine.model.vocabSize) throw badParam('stop_token_ids', `token id ${t} is outside the vocabulary (${m.engine.model.vocabSize})`);
  const stopText = stopStringChecker(m.tokenizer, r.stop, 'stop');
  return prompts.map((tokens, i) => {
    if (tokens.some((t) => t >= m.engine.model.vocabSize)) throw badParam('prompt', `a token id is outside the vocabulary (${m.engine.model.vocabSize})`);
    if (tokens.length >= m.maxPositions) throw badParam('prompt', `${tokens.length} tokens: the model holds at most ${m.maxPositions} positions`);
    return {
      sampleKey: r.sampleKey !== undefined ? (prompts.length === 1 ? r.sampleKey : `${r.sampleKey}.${i}`) : `prompt-${i}`,
      promptTokens: tokens,
      numSamples: r.n,
      sampling: { temperature: r.temperature, topP: r.topP, topK: r.topK, maxNewTokens: Math.min(r.maxTokens, m.maxPositions - tokens.length), stopTokens },
      seed,
      ...(r.stop.length > 0 ? { stopWhen: stopText } : {}),
      ...(tap ? { onToken: (s: number, t: readonly number[], lp: readonly number[]) => tap(i, s, t, lp) } : {}),
    };
  });
}

export interface Choice {
  text: string;
  tokenIds: number[];
  logprobs: number[];
  finishReason: 'stop' | 'length';
}

/** The visible text of a sample: a final stop token dropped, cut before the first stop string. */
export function visibleText(m: ServedModel, tokens: ArrayLike<number>, stop: readonly string[], stopTokens: readonly number[]): string {
  const ids = Array.from(tokens);
  const last = ids[ids.length - 1];
  if (last !== undefined && stopTokens.includes(last)) ids.pop();
  let text = m.tokenizer.decode(ids);
  for (const s of stop) {
    const k = text.indexOf(s);
    if (k >= 0) text = text.slice(0, k);
  }
  return text;
}

export function toChoice(m: ServedModel, r: SamplingRequest, s: GeneratedSample): Choice {
  const stopTokens = [...m.stopTokenIds, ...r.stopTokenIds];
  const ids = Array.from(s.tokens);
  return {
    text: visibleText(m, ids, r.stop, stopTokens),
    tokenIds: ids,
    logprobs: Array.from(s.logprobs),
    finishReason: s.finishReason,
  };
}
