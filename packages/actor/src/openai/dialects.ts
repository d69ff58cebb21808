/**
 * The three servers an actor can sample from. acereason serve and vLLM share the completions
 * shape (completions-dialect.ts) and differ in how weights are loaded and reported; SGLang's
 * native /generate API has its own shape.
 */
import type { RolloutEngineWeights } from '@acereason/protocol';
import { completionsProbe, completionsRequest, parseCompletions, parseCompletionsProbe } from './completions-dialect.js';
import { finishReason, isObject, protocolError, topKField, type Dialect, type HttpCall, type ServerSample } from './dialect.js';

/**
 * `acereason serve`: POST /v1/load_weights checks the weights' digest itself; every response's
 * system_fingerprint names the weights that produced it; GET /v1/weights_version reports them.
 */
export const acereasonDialect: Dialect = {
  name: 'acereason',
  // sample_key keys the sampler's RNG as the embedded actors do: the same seed gives the same samples.
  generate: (model, r) => completionsRequest(model, r, { sample_key: r.sampleKey }),
  parseGenerate: (body, r) => parseCompletions('acereason', body, r),
  load: (dir, _tag, version, sha256) => [{ method: 'POST', path: '/v1/load_weights', body: { model_dir: dir, version, weights_sha256: sha256 } }],
  checkLoaded(body) {
    if (!isObject(body) || body.ok !== true) throw protocolError('acereason', `load_weights answered ${JSON.stringify(body)}`);
  },
  held: () => ({ method: 'GET', path: '/v1/weights_version' }),
  parseHeld: (body) => (isObject(body) && typeof body.version === 'number' && typeof body.weights_sha256 === 'string' ? `v${body.version}-${body.weights_sha256}` : undefined),
  probe: completionsProbe,
  parseProbe: (body, tokens, from) => parseCompletionsProbe('acereason', body, tokens, from),
};

/**
 * vLLM (server started with VLLM_SERVER_DEV_MODE=1): the new directory becomes the model path
 * (collective_rpc update_config), reload_weights reads it, the prefix cache is reset, and the
 * weight version is set and read back (/update_weight_version, /weight_info). Responses carry no
 * weights stamp, so the engine checks the held version before and after each group.
 */
export const vllmDialect: Dialect = {
  name: 'vllm',
  generate: (model, r) => completionsRequest(model, r),
  parseGenerate: (body, r) => ({ ...parseCompletions('vllm', body, r), stamp: undefined }),
  load: (dir, tag) => [
    { method: 'POST', path: '/collective_rpc', body: { method: 'update_config', args: [{ model_config: { model: dir } }] } },
    { method: 'POST', path: '/collective_rpc', body: { method: 'reload_weights' } },
    { method: 'POST', path: '/reset_prefix_cache' },
    { method: 'POST', path: '/update_weight_version', body: { new_version: tag } },
  ],
  checkLoaded(body, call) {
    if (call.path === '/update_weight_version' && !(isObject(body) && body.success === true)) throw protocolError('vllm', `update_weight_version answered ${JSON.stringify(body)}`);
  },
  held: () => ({ method: 'GET', path: '/weight_info' }),
  parseHeld: (body) => (isObject(body) && typeof body.weight_version === 'string' ? body.weight_version : undefined),
  probe: completionsProbe,
  parseProbe: (body, tokens, from) => parseCompletionsProbe('vllm', body, tokens, from),
};

/**
 * SGLang's native API: POST /generate with input_ids and return_logprob (meta_info's
 * output_token_logprobs are [logprob, token id, text] triples, input_token_logprobs the same for
 * the prompt), POST /update_weights_from_disk with a weight_version that every response's
 * meta_info.weight_version then reports, GET /get_model_info for the held one.
 */
export const sglangDialect: Dialect = {
  name: 'sglang',
  generate(_model, r): HttpCall {
    const s = r.sampling;
    return {
      method: 'POST', path: '/generate',
      body: {
        input_ids: Array.from(r.promptTokens), return_logprob: true, logprob_start_len: -1,
        sampling_params: { n: r.numSamples, max_new_tokens: s.maxNewTokens, temperature: s.temperature, top_p: s.topP, top_k: topKField(s.topK), stop_token_ids: s.stopTokens, sampling_seed: r.seed, skip_special_tokens: false },
      },
    };
  },
  parseGenerate(body, r) {
    const outs = Array.isArray(body) ? body : [body];
    if (outs.length !== r.numSamples) throw protocolError('sglang', `${outs.length} outputs for n = ${r.numSamples}`);
    let stamp: string | undefined;
    const samples = outs.map((o, i): ServerSample => {
      const meta = isObject(o) && isObject(o.meta_info) ? o.meta_info : undefined;
      const triples = Array.isArray(meta?.output_token_logprobs) ? meta.output_token_logprobs : undefined;
      if (!meta || !triples) throw protocolError('sglang', `output ${i} has no meta_info.output_token_logprobs (send return_logprob)`);
      const tokens: number[] = [];
      const logprobs: number[] = [];
      for (const t of triples) {
        if (!Array.isArray(t) || typeof t[0] !== 'number' || typeof t[1] !== 'number') throw protocolError('sglang', `output ${i}: a logprob entry is not [logprob, token id, text]`);
        logprobs.push(t[0]);
        tokens.push(t[1]);
      }
      const w = typeof meta.weight_version === 'string' ? meta.weight_version : undefined;
      if (i > 0 && w !== stamp) throw protocolError('sglang', 'the outputs of one request report different weight versions');
      stamp = w;
      const fr = isObject(meta.finish_reason) ? meta.finish_reason.type : meta.finish_reason;
      return { tokens, logprobs, finishReason: finishReason('sglang', fr) };
    });
    return { samples, stamp };
  },
  load: (dir, tag) => [{ method: 'POST', path: '/update_weights_from_disk', body: { model_path: dir, weight_version: tag, abort_all_requests: false } }],
  checkLoaded(body) {
    if (!isObject(body) || body.success !== true) throw protocolError('sglang', `update_weights_from_disk failed: ${isObject(body) ? String(body.message) : JSON.stringify(body)}`);
  },
  held: () => ({ method: 'GET', path: '/get_model_info' }),
  parseHeld: (body) => (isObject(body) && typeof body.weight_version === 'string' ? body.weight_version : undefined),
  probe: (_model, tokens) => ({ method: 'POST', path: '/generate', body: { input_ids: Array.from(tokens), return_logprob: true, logprob_start_len: 0, sampling_params: { max_new_tokens: 1, temperature: 1 } } }),
  parseProbe(body, tokens, from) {
    const meta = isObject(body) && isObject(body.meta_info) ? body.meta_info : undefined;
    const triples = Array.isArray(meta?.input_token_logprobs) ? meta.input_token_logprobs : undefined;
    if (!triples || triples.length !== tokens.length) throw protocolError('sglang', `input_token_logprobs: expected ${tokens.length} positions, got ${triples?.length ?? 'none'}`);
    const out = new Float32Array(tokens.length - from);
    for (let i = from; i < tokens.length; i++) {
      const t: unknown = triples[i];
      if (!Array.isArray(t) || typeof t[0] !== 'number' || t[1] !== tokens[i]) throw protocolError('sglang', `input_token_logprobs[${i}] is not [logprob, ${tokens[i]}, text]`);
      out[i - from] = t[0];
    }
    return out;
  },
};

/** `none`: any OpenAI-compatible server whose weights nobody changes, sampled through the completions shape. */
export const fixedWeightsDialect: Dialect = { ...vllmDialect, name: 'none', held: () => ({ method: 'GET', path: '/v1/models' }) };

export function dialectFor(weights: RolloutEngineWeights): Dialect {
  return { acereason: acereasonDialect, vllm: vllmDialect, sglang: sglangDialect, none: fixedWeightsDialect }[weights];
}
