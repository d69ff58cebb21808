/**
 * The OpenAI completions request and response with the extensions RL stacks use, as vLLM defines
 * them and `acereason serve` speaks them: token-id prompts, `top_k`, `stop_token_ids`,
 * `return_token_ids` (choice.token_ids), `return_tokens_as_token_ids` (logprob tokens as
 * "token_id:N"), `prompt_logprobs`.
 */
import type { GenerateRequest } from '@acereason/policy';
import { finishReason, isObject, protocolError, topKField, type HttpCall, type ParsedGroup, type ServerSample } from './dialect.js';

export function completionsRequest(model: string, r: GenerateRequest, extra: Record<string, unknown> = {}): HttpCall {
  const s = r.sampling;
  return {
    method: 'POST', path: '/v1/completions',
    body: {
      model, prompt: Array.from(r.promptTokens), n: r.numSamples, max_tokens: s.maxNewTokens,
      temperature: s.temperature, top_p: s.topP, top_k: topKField(s.topK), stop_token_ids: s.stopTokens, seed: r.seed,
      logprobs: 1, return_token_ids: true, return_tokens_as_token_ids: true, skip_special_tokens: false,
      ...extra,
    },
  };
}

const tokenIdOf = (t: unknown): number | undefined => {
  const m = typeof t === 'string' ? t.match(/^token_id:(\d+)$/) : null;
  return m ? Number(m[1]) : undefined;
};

export function parseCompletions(dialect: string, body: unknown, r: GenerateRequest): ParsedGroup {
  if (!isObject(body) || !Array.isArray(body.choices)) throw protocolError(dialect, 'the completion has no choices');
  const choices = [...body.choices].filter(isObject).sort((a, b) => Number(a.index) - Number(b.index));
  if (choices.length !== r.numSamples) throw protocolError(dialect, `${choices.length} choices for n = ${r.numSamples}`);
  const samples = choices.map((c, i): ServerSample => {
    const lp = isObject(c.logprobs) ? c.logprobs : undefined;
    const logprobs = Array.isArray(lp?.token_logprobs) ? lp.token_logprobs : undefined;
    // token_ids (return_token_ids), else the "token_id:N" logprob tokens (return_tokens_as_token_ids).
    const ids = Array.isArray(c.token_ids) ? c.token_ids : Array.isArray(lp?.tokens) ? lp.tokens.map(tokenIdOf) : undefined;
    if (!ids || ids.some((t) => typeof t !== 'number' || !Number.isInteger(t) || t < 0)) throw protocolError(dialect, `choice ${i} has no token ids (the server must honour return_token_ids or return_tokens_as_token_ids)`);
    if (!logprobs || logprobs.length !== ids.length || logprobs.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw protocolError(dialect, `choice ${i}: ${logprobs?.length ?? 0} logprobs for ${ids.length} tokens`);
    return { tokens: ids as number[], logprobs: logprobs as number[], finishReason: finishReason(dialect, c.finish_reason) };
  });
  return { samples, stamp: typeof body.system_fingerprint === 'string' ? body.system_fingerprint : undefined };
}

export function completionsProbe(model: string, tokens: Uint32Array): HttpCall {
  return { method: 'POST', path: '/v1/completions', body: { model, prompt: Array.from(tokens), max_tokens: 1, temperature: 1, prompt_logprobs: 0, return_tokens_as_token_ids: true } };
}

/** choices[0].prompt_logprobs: per position null or {"<id>": {logprob}} (the actual token among them). */
export function parseCompletionsProbe(dialect: string, body: unknown, tokens: Uint32Array, from: number): Float32Array {
  const c = isObject(body) && Array.isArray(body.choices) ? body.choices[0] : undefined;
  const plp = isObject(c) && Array.isArray(c.prompt_logprobs) ? c.prompt_logprobs : undefined;
  if (!plp || plp.length !== tokens.length) throw protocolError(dialect, `prompt_logprobs: expected ${tokens.length} positions, got ${plp?.length ?? 'none'}`);
  const out = new Float32Array(tokens.length - from);
  for (let i = from; i < tokens.length; i++) {
    const pos: unknown = plp[i];
    const entry = isObject(pos) ? (pos[String(tokens[i])] ?? pos[`token_id:${tokens[i]}`]) : undefined;
    const v = isObject(entry) ? entry.logprob : undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw protocolError(dialect, `prompt_logprobs[${i}] has no logprob for token ${tokens[i]}`);
    out[i - from] = v;
  }
  return out;
}
