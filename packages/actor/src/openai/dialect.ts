/**
 * What differs between inference servers, as pure functions: the HTTP request for a group, a
 * weights load, the held-version query and the provenance probe, and the parsing of each answer.
 * The engine (openai-engine.ts) owns the I/O; these are tested against documented response shapes.
 */
import { AceReasonError, ErrorCodes, type FinishReason } from '@acereason/protocol';
import type { GenerateRequest } from '@acereason/policy';

export interface HttpCall {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

/** A sample as the server reported it (the engine adds the request's key). */
export interface ServerSample {
  tokens: number[];
  logprobs: number[];
  finishReason: FinishReason;
}

export interface ParsedGroup {
  samples: ServerSample[];
  /** The weights stamp the server put on the response, when it stamps responses. */
  stamp: string | undefined;
}

/** A version as the engine stamps it on a server: `v<version>-<weights sha256>`. */
export function versionTag(version: number, sha256: string): string {
  return `v${version}-${sha256}`;
}

/** Whether a server's stamp names these weights (the digest part; servers may shorten it, 12 hex digits at least). */
export function stampNames(stamp: string | undefined, sha256: string): boolean {
  const m = stamp?.match(/^v\d+-([0-9a-f]{12,64})$/);
  return m?.[1] !== undefined && sha256.startsWith(m[1]);
}

export interface Dialect {
  readonly name: string;
  /** One group: the prompt as token ids, n = numSamples. */
  generate(model: string, r: GenerateRequest): HttpCall;
  parseGenerate(body: unknown, r: GenerateRequest): ParsedGroup;
  /** The calls that make the server load the model directory `dir` as `tag` (in order). */
  load(dir: string, tag: string, version: number, sha256: string): HttpCall[];
  /** Throws when a load call's answer says it failed. */
  checkLoaded(body: unknown, call: HttpCall): void;
  /** The server's report of the weights it holds. */
  held(): HttpCall;
  parseHeld(body: unknown): string | undefined;
  /** Teacher-forced logprobs of `tokens` (the provenance probe). */
  probe(model: string, tokens: Uint32Array): HttpCall;
  /** logprobs[i] of tokens[from + i]. */
  parseProbe(body: unknown, tokens: Uint32Array, from: number): Float32Array;
}

export function protocolError(dialect: string, what: string): AceReasonError {
  return new AceReasonError(ErrorCodes.INVALID, `${dialect} server: ${what}`, { retryable: false });
}

type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function finishReason(dialect: string, v: unknown): FinishReason {
  if (v === 'stop' || v === 'length') return v;
  throw protocolError(dialect, `finish reason ${JSON.stringify(v)} is not stop or length (an aborted or failed sample cannot be trained on)`);
}

/** -1 disables top-k for vLLM and SGLang (and acereason serve reads it so too). */
export const topKField = (k: number): number => (k > 0 ? k : -1);
