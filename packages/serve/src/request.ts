/**
 * The OpenAI request bodies we accept, checked field by field into one resolved form. A wrong
 * field is a 400 naming it (`param`); fields we cannot honour are refused, not ignored, except
 * ones that change nothing here (user, logit_bias absent, ...). Extensions the RL stacks use are
 * accepted under their vLLM / SGLang names: `top_k`, `stop_token_ids`, `min_tokens` absent.
 */
import { badParam } from './openai-error.js';

export interface SamplingRequest {
  model: string;
  n: number;
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number | undefined;
  stop: string[];
  stopTokenIds: number[];
  stream: boolean;
  /** Completions: 0 = none; chat: 1 when `logprobs: true`. Only the sampled token's logprob is known. */
  logprobs: number;
  /** Keys the sampler's RNG with the seed (an extension: the embedded actors' key, for identical samples). */
  sampleKey: string | undefined;
}

export interface CompletionRequest extends SamplingRequest {
  /** One entry per prompt: text, or token ids. */
  prompts: Array<{ text: string } | { tokens: number[] }>;
  /** vLLM's `prompt_logprobs`: each prompt token's logprob given the ones before it (0: only that token's). */
  promptLogprobs: boolean;
}

export interface ChatMessageIn {
  role: string;
  content: string;
}

export interface ChatRequest extends SamplingRequest {
  messages: ChatMessageIn[];
}

type Body = Record<string, unknown>;

function int(b: Body, k: string, dflt: number, min: number, max: number): number {
  const v = b[k];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw badParam(k, `expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function num(b: Body, k: string, dflt: number, ok: (x: number) => boolean, range: string): number {
  const v = b[k];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw badParam(k, `expected a number ${range}, got ${JSON.stringify(v)}`);
  return v;
}

const isTokenList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((t) => typeof t === 'number' && Number.isInteger(t) && t >= 0);

function sampling(b: Body, logprobs: number): SamplingRequest {
  if (typeof b.model !== 'string' || b.model === '') throw badParam('model', 'required: the name GET /v1/models lists');
  const stopRaw = b.stop;
  let stop: string[] = [];
  if (typeof stopRaw === 'string') stop = [stopRaw];
  else if (Array.isArray(stopRaw)) stop = stopRaw as string[];
  else if (stopRaw !== undefined && stopRaw !== null) throw badParam('stop', 'expected a string or a list of up to 4 strings');
  if (stop.length > 4 || stop.some((s) => typeof s !== 'string' || s === '')) throw badParam('stop', 'expected a string or a list of up to 4 non-empty strings');
  const ids = b.stop_token_ids;
  if (ids !== undefined && ids !== null && !isTokenList(ids) && !(Array.isArray(ids) && ids.length === 0)) throw badParam('stop_token_ids', 'expected a list of token ids');
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw badParam('stream', 'expected true or false');
  const stream = b.stream === true;
  const seed = b.seed;
  if (seed !== undefined && seed !== null && (typeof seed !== 'number' || !Number.isSafeInteger(seed))) throw badParam('seed', `expected an integer, got ${JSON.stringify(seed)}`);
  const key = b.sample_key;
  if (key !== undefined && (typeof key !== 'string' || key === '')) throw badParam('sample_key', 'expected a non-empty string');
  const topK = int(b, 'top_k', 0, -1, 1 << 20);
  return {
    model: b.model,
    n: int(b, 'n', 1, 1, 128),
    maxTokens: int(b, 'max_tokens', 16, 1, 1 << 20),
    temperature: num(b, 'temperature', 1, (x) => x >= 0 && x <= 2, 'in [0, 2]'),
    topP: num(b, 'top_p', 1, (x) => x > 0 && x <= 1, 'in (0, 1]'),
    topK: topK < 0 ? 0 : topK,
    seed: typeof seed === 'number' ? seed : undefined,
    stop,
    stopTokenIds: isTokenList(ids) ? ids : [],
    stream,
    logprobs,
    sampleKey: typeof key === 'string' ? key : undefined,
  };
}

function refuseUnsupported(b: Body, keys: readonly string[]): void {
  for (const k of keys) if (b[k] !== undefined && b[k] !== null && b[k] !== false && b[k] !== 0) throw badParam(k, 'not supported by this server');
}

export function parseCompletion(b: Body): CompletionRequest {
  refuseUnsupported(b, ['echo', 'best_of', 'suffix', 'logit_bias']);
  const lp = b.logprobs;
  if (lp !== undefined && lp !== null && (typeof lp !== 'number' || !Number.isInteger(lp) || lp < 0 || lp > 1)) {
    throw badParam('logprobs', `expected 0 or 1 (only the sampled token's logprob is reported), got ${JSON.stringify(lp)}`);
  }
  const p = b.prompt;
  let prompts: CompletionRequest['prompts'];
  if (typeof p === 'string') prompts = [{ text: p }];
  else if (isTokenList(p)) prompts = [{ tokens: p }];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string')) prompts = (p as string[]).map((text) => ({ text }));
  else if (Array.isArray(p) && p.length > 0 && p.every(isTokenList)) prompts = (p as number[][]).map((tokens) => ({ tokens }));
  else throw badParam('prompt', 'expected a string, a list of token ids, or a list of either');
  if (prompts.some((x) => 'text' in x && x.text === '')) throw badParam('prompt', 'must not be empty');
  const plp = b.prompt_logprobs;
  if (plp !== undefined && plp !== null && plp !== 0 && plp !== 1) throw badParam('prompt_logprobs', `expected 0 or 1 (only the prompt token's own logprob is reported), got ${JSON.stringify(plp)}`);
  const r = { ...sampling(b, typeof lp === 'number' ? lp : 0), prompts, promptLogprobs: plp === 0 || plp === 1 };
  if (r.promptLogprobs && r.stream) throw badParam('prompt_logprobs', 'not available with stream');
  return r;
}

export function parseChat(b: Body): ChatRequest {
  refuseUnsupported(b, ['tools', 'functions', 'logit_bias', 'response_format']);
  if (b.logprobs !== undefined && b.logprobs !== null && typeof b.logprobs !== 'boolean') throw badParam('logprobs', 'expected true or false');
  const top = int(b, 'top_logprobs', 0, 0, 0);
  void top;
  const m = b.messages;
  if (!Array.isArray(m) || m.length === 0) throw badParam('messages', 'expected a non-empty list of {role, content}');
  const messages = m.map((x: unknown, i) => {
    const o = x as Partial<ChatMessageIn> | null;
    if (typeof o !== 'object' || o === null || typeof o.role !== 'string' || typeof o.content !== 'string') throw badParam(`messages[${i}]`, 'expected {role: string, content: string}');
    return { role: o.role, content: o.content };
  });
  const maxTokens = b.max_tokens ?? b.max_completion_tokens;
  return { ...sampling({ ...b, max_tokens: maxTokens }, b.logprobs === true ? 1 : 0), messages };
}
