/** OpenAI response bodies (completions, chat) and their server-sent-event streams. */
import type { ServerResponse } from 'node:http';
import type { GeneratedSample } from '@acereason/policy';
import type { SamplingRequest } from './request.js';
import type { ServedModel } from './served-model.js';
import { toChoice, visibleText, type TokenTap } from './sampling.js';

const now = (): number => Math.floor(Date.now() / 1000);

function usage(prompts: Uint32Array[], r: SamplingRequest, samples: GeneratedSample[]): Record<string, number> {
  const p = prompts.reduce((a, x) => a + x.length, 0) * 1;
  const c = samples.reduce((a, s) => a + s.tokens.length, 0);
  void r;
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
}

/**
 * vLLM's `prompt_logprobs` shape: per prompt position null (the first token) or
 * `{"<token id>": {logprob, decoded_token}}` for the token that is there.
 */
export type PromptLogprobs = Array<Record<string, { logprob: number; decoded_token: string }> | null>;

export function respondCompletion(m: ServedModel, r: SamplingRequest, id: string, prompts: Uint32Array[], samples: GeneratedSample[], promptLogprobs?: PromptLogprobs[]): unknown {
  return {
    id, object: 'text_completion', created: now(), model: m.name, system_fingerprint: `v${m.held.version}-${m.held.weightsSha256.slice(0, 12)}`,
    choices: samples.map((s, index) => {
      const c = toChoice(m, r, s);
      return {
        index, text: c.text, finish_reason: c.finishReason,
        logprobs: r.logprobs > 0 ? logprobsOf(m, false, c.tokenIds, c.logprobs, 0) : null,
        // vLLM's `return_token_ids` fields: what an RL actor trains on (the stop token included).
        token_ids: c.tokenIds,
        prompt_token_ids: Array.from(prompts[Math.floor(index / r.n)] ?? []),
        ...(promptLogprobs ? { prompt_logprobs: promptLogprobs[Math.floor(index / r.n)] ?? null } : {}),
      };
    }),
    usage: usage(prompts, r, samples),
  };
}

export function respondChat(m: ServedModel, r: SamplingRequest, id: string, prompts: Uint32Array[], samples: GeneratedSample[]): unknown {
  return {
    id, object: 'chat.completion', created: now(), model: m.name, system_fingerprint: `v${m.held.version}-${m.held.weightsSha256.slice(0, 12)}`,
    choices: samples.map((s, index) => {
      const c = toChoice(m, r, s);
      return {
        index, message: { role: 'assistant', content: c.text }, finish_reason: c.finishReason,
        logprobs: r.logprobs > 0 ? logprobsOf(m, true, c.tokenIds, c.logprobs, 0) : null,
        token_ids: c.tokenIds,
      };
    }),
    usage: usage(prompts, r, samples),
  };
}

/** The logprobs field of a choice for `tokens` (completions: the legacy object, from `offset`; chat: `content`). */
function logprobsOf(m: ServedModel, chat: boolean, ids: readonly number[], logprobs: readonly number[], offset: number): unknown {
  const texts = ids.map((t) => m.tokenizer.decode([t]));
  // As the samples hold them (float32), whether they come from a finished sample or a decoding row.
  const lps = logprobs.map((x) => Math.fround(x));
  if (chat) return { content: texts.map((t, k) => ({ token: t, logprob: lps[k], bytes: [...Buffer.from(t)], top_logprobs: [] })) };
  let at = offset;
  return { tokens: texts, token_logprobs: [...lps], top_logprobs: texts.map((t, k) => ({ [t]: lps[k] })), text_offset: texts.map((t) => ((at += t.length), at - t.length)) };
}

/**
 * Streams text deltas as rows decode. With stop strings, the last characters are held back until
 * they cannot start a stop string, so a stop string is never sent. With logprobs each chunk
 * carries the tokens decoded since the previous one (ids, logprobs): concatenated, the same as
 * without streaming.
 */
export async function streamSamples(
  res: ServerResponse, m: ServedModel, r: SamplingRequest, id: string, chat: boolean,
  run: (tap: TokenTap) => Promise<GeneratedSample[]>, countTokens: (n: number) => void,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const created = now();
  const sent = new Map<number, string>();
  /** Per choice: tokens already sent (their ids and logprobs), and the text offset of the next one. */
  const tokSent = new Map<number, { n: number; offset: number }>();
  const hold = r.stop.length > 0 ? Math.max(...r.stop.map((s) => s.length)) - 1 : 0;
  const chunk = (index: number, text: string, finish: string | null, ids: readonly number[], lps: readonly number[]): void => {
    const t = tokSent.get(index) ?? { n: 0, offset: 0 };
    const newIds = ids.slice(t.n);
    const lp = r.logprobs > 0 ? logprobsOf(m, chat, newIds, lps.slice(t.n), t.offset) : null;
    tokSent.set(index, { n: ids.length, offset: t.offset + newIds.reduce((a, x) => a + m.tokenizer.decode([x]).length, 0) });
    const choice = chat
      ? { index, delta: sent.has(index) || text === '' ? { content: text } : { role: 'assistant', content: text }, finish_reason: finish, logprobs: lp, token_ids: newIds }
      : { index, text, finish_reason: finish, logprobs: lp, token_ids: newIds };
    res.write(`data: ${JSON.stringify({ id, object: chat ? 'chat.completion.chunk' : 'text_completion', created, model: m.name, choices: [choice] })}\n\n`);
  };
  const emit = (index: number, full: string, final: boolean, ids: readonly number[], lps: readonly number[]): void => {
    const before = sent.get(index) ?? '';
    const upto = final ? full.length : Math.max(before.length, full.length - hold);
    // Only a prefix that is stable (decoding may revise a partial multi-byte character).
    if (!full.startsWith(before)) return;
    const delta = full.slice(before.length, upto);
    if (delta !== '' || !sent.has(index)) chunk(index, delta, null, ids, lps);
    sent.set(index, before + delta);
  };
  const stopTokens = [...m.stopTokenIds, ...r.stopTokenIds];
  const samples = await run((p, s, tokens, logprobs) => {
    let text = m.tokenizer.decode(tokens);
    if (text.includes('\ufffd')) return;
    // Up to a stop string that has appeared: that part is final.
    let cut = false;
    for (const stop of r.stop) {
      const k = text.indexOf(stop);
      if (k >= 0) {
        text = text.slice(0, k);
        cut = true;
      }
    }
    emit(p * r.n + s, text, cut, tokens, logprobs);
  });
  samples.forEach((s, index) => {
    const ids = Array.from(s.tokens);
    const lps = Array.from(s.logprobs);
    emit(index, visibleText(m, s.tokens, r.stop, stopTokens), true, ids, lps);
    chunk(index, '', s.finishReason, ids, lps);
  });
  countTokens(samples.reduce((a, s) => a + s.tokens.length, 0));
  res.write('data: [DONE]\n\n');
  res.end();
}
