/**
 * The rollout engine of `acereason eval --endpoint`: any OpenAI-compatible server with fixed
 * weights (weights: none), through the OpenAI completions API with token ids (vLLM, or any that
 * accepts them), acereason serve's (the sampler keyed as the embedded engine, so the same seed
 * gives the embedded samples), or SGLang's native /generate.
 */
import { acereasonDialect, fixedWeightsDialect, OpenAIRolloutEngine, sglangDialect, type Dialect } from '@acereason/actor';
import { resolveOpenAIEngine, ValidationError } from '@acereason/protocol';
import { silentLogger } from '@acereason/transport';
import { UsageError } from '../command.js';

const APIS: Record<string, Dialect> = { openai: fixedWeightsDialect, acereason: acereasonDialect, sglang: sglangDialect };

export async function endpointEngine(o: { url: string; model: string | undefined; api: string | undefined; apiKeyEnv: string | undefined }): Promise<OpenAIRolloutEngine> {
  const dialect = APIS[o.api ?? 'openai'];
  if (!dialect) throw new UsageError(`--endpoint-api: expected openai, acereason or sglang, got ${JSON.stringify(o.api)}`, 'openai: the completions API with token-id prompts (vLLM and most servers); acereason: acereason serve; sglang: SGLang\'s /generate.');
  const url = o.url.replace(/\/+$/, '').replace(/\/v1$/, '');
  const model = o.model ?? await firstModel(url, o.apiKeyEnv);
  try {
    const spec = resolveOpenAIEngine({ url, model, weights: 'none', apiKeyEnv: o.apiKeyEnv }, { url: '--endpoint', model: '--model', weights: 'weights', apiKeyEnv: '--api-key-env', maxConcurrency: 'max_concurrency', requestTimeoutMs: 'request_timeout', probeTolerance: 'probe_tolerance' });
    return new OpenAIRolloutEngine({ spec, dialect, weightsDir: '', retryForMs: 30_000, logger: silentLogger() });
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(err.message, 'Pass the server\'s base URL (e.g. http://gpu-1:8000) and, with a key, the environment variable that holds it.');
    throw err;
  }
}

/** The server's first model (GET /v1/models), when --model is not given. */
async function firstModel(url: string, apiKeyEnv: string | undefined): Promise<string> {
  const key = apiKeyEnv === undefined ? undefined : process.env[apiKeyEnv];
  let body: unknown;
  try {
    const res = await fetch(`${url}/v1/models`, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = await res.json();
  } catch (err) {
    throw new UsageError(`--endpoint: GET ${url}/v1/models failed: ${(err as Error).message}`, 'Check the URL, or pass --model NAME.');
  }
  const id = (body as { data?: Array<{ id?: unknown }> }).data?.[0]?.id;
  if (typeof id !== 'string') throw new UsageError(`--endpoint: ${url}/v1/models lists no model`, 'Pass --model NAME.');
  return id;
}
