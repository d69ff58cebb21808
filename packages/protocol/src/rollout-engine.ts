/**
 * One resolution of an OpenAI-compatible rollout engine's settings, for the run file's `engine`
 * section (the learner publishes it in the RunSpec) and for the actor's `--engine-*` flags alike:
 * defaults filled in, every value checked, errors naming the field as the user wrote it.
 */
import { ValidationError } from './errors.js';
import { ROLLOUT_ENGINE_WEIGHTS, type OpenAIEngineSpec, type RolloutEngineWeights } from './messages.js';

export interface OpenAIEngineFields {
  url?: unknown;
  model?: unknown;
  weights?: unknown;
  apiKeyEnv?: unknown;
  maxConcurrency?: unknown;
  requestTimeoutMs?: unknown;
  probeTolerance?: unknown;
}

export const OPENAI_ENGINE_DEFAULTS = { maxConcurrency: 8, requestTimeoutMs: 600_000, probeTolerance: 0.02 } as const;

/** `names` says what each field is called where it came from (`engine.url`, `--engine-url`). */
export function resolveOpenAIEngine(f: OpenAIEngineFields, names: Record<keyof OpenAIEngineFields, string>): OpenAIEngineSpec {
  const str = (k: 'url' | 'model' | 'apiKeyEnv'): string => {
    const v = f[k];
    if (typeof v !== 'string' || v.trim() === '') throw new ValidationError(names[k], `required with kind openai: expected a non-empty string, got ${JSON.stringify(v)}`);
    return v.trim();
  };
  const url = str('url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(names.url, `${JSON.stringify(url)} is not a URL (e.g. http://gpu-1:8000)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ValidationError(names.url, `must be http:// or https://, got ${parsed.protocol}`);
  const weights = f.weights;
  if (typeof weights !== 'string' || !(ROLLOUT_ENGINE_WEIGHTS as readonly string[]).includes(weights)) {
    throw new ValidationError(names.weights, `required with kind openai: how weights get into the server, one of ${ROLLOUT_ENGINE_WEIGHTS.join(', ')}; got ${JSON.stringify(weights)}`);
  }
  const num = (k: 'maxConcurrency' | 'requestTimeoutMs' | 'probeTolerance', dflt: number, ok: (x: number) => boolean, what: string): number => {
    const v = f[k];
    if (v === undefined) return dflt;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || !ok(n)) throw new ValidationError(names[k], `expected ${what}, got ${JSON.stringify(v)}`);
    return n;
  };
  const spec: OpenAIEngineSpec = {
    kind: 'openai',
    url: url.replace(/\/+$/, ''),
    model: str('model'),
    weights: weights as RolloutEngineWeights,
    maxConcurrency: num('maxConcurrency', OPENAI_ENGINE_DEFAULTS.maxConcurrency, (x) => Number.isInteger(x) && x >= 1 && x <= 1024, 'an integer in [1, 1024]'),
    requestTimeoutMs: num('requestTimeoutMs', OPENAI_ENGINE_DEFAULTS.requestTimeoutMs, (x) => Number.isInteger(x) && x >= 1, 'a positive number of milliseconds'),
    probeTolerance: num('probeTolerance', OPENAI_ENGINE_DEFAULTS.probeTolerance, (x) => x >= 0, 'a number >= 0 (mean absolute logprob difference)'),
  };
  if (f.apiKeyEnv !== undefined) spec.apiKeyEnv = str('apiKeyEnv');
  return spec;
}
