/**
 * `acereason serve`: an OpenAI-compatible HTTP server over the embedded engine. Routes:
 * GET /health, GET /metrics (Prometheus), GET /v1/models, POST /v1/completions,
 * POST /v1/chat/completions, GET /v1/weights_version and POST /v1/load_weights (a new policy
 * version from a model directory on this host). Errors are OpenAI error objects.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual, createHash, randomUUID } from 'node:crypto';
import { Counter, Gauge, Registry } from 'prom-client';
import { AceReasonError } from '@acereason/protocol';
import type { Logger } from '@acereason/transport';
import { OpenAIHttpError, badParam } from './openai-error.js';
import { parseChat, parseCompletion, type SamplingRequest } from './request.js';
import type { ContinuousDecoder } from '@acereason/policy';
import { reloadWeights, type ServedModel } from './served-model.js';
import { streamSamples, respondChat, respondCompletion, type PromptLogprobs } from './responses.js';
import { generateRequests } from './sampling.js';

export interface ServeOptions {
  model: ServedModel;
  host?: string;
  port?: number;
  /** Clients must send `Authorization: Bearer <apiKey>` on /v1/* when set. */
  apiKey?: string;
  /** Rows (samples) decoded at once by the continuous batch (default 64); more wait for rows to leave. */
  maxBatch?: number;
  logger?: Logger;
}

export interface RunningServe extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** The continuous-batching decode loop every request joins. */
  readonly decoder: ContinuousDecoder;
  close(): Promise<void>;
}

const MAX_BODY = 16 << 20;

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).byteLength;
    if (n > MAX_BODY) throw new OpenAIHttpError(413, 'invalid_request_error', `request body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new OpenAIHttpError(400, 'invalid_request_error', 'the body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new OpenAIHttpError(400, 'invalid_request_error', 'the body must be a JSON object');
  return v as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startServe(o: ServeOptions): Promise<RunningServe> {
  const m = o.model;
  const registry = new Registry();
  const requests = new Counter({ name: 'acereason_serve_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const tokens = new Counter({ name: 'acereason_serve_generated_tokens_total', help: 'tokens generated', registers: [registry] });
  const decoder = m.engine.continuous(o.maxBatch ?? 64);
  new Gauge({ name: 'acereason_serve_decode_steps', help: 'decode steps run so far (one token for every row in the batch)', registers: [registry], collect() { this.set(decoder.stats.steps); } });
  new Gauge({ name: 'acereason_serve_rows_joined_mid_decode', help: 'samples that joined a decode batch while it ran', registers: [registry], collect() { this.set(decoder.stats.joinedMidDecode); } });
  new Gauge({ name: 'acereason_serve_decoding_rows', help: 'samples decoding now', registers: [registry], collect() { this.set(decoder.load.decoding); } });
  new Gauge({ name: 'acereason_serve_waiting_rows', help: 'samples waiting for room in the decode batch', registers: [registry], collect() { this.set(decoder.load.waiting); } });
  const version = new Gauge({ name: 'acereason_serve_policy_version', help: 'the policy version the server holds', registers: [registry] });
  version.set(m.held.version);
  let loading: Promise<unknown> | undefined;
  const keyHash = o.apiKey !== undefined ? createHash('sha256').update(o.apiKey).digest() : undefined;

  const authorized = (req: IncomingMessage): boolean => {
    if (!keyHash) return true;
    const h = req.headers.authorization;
    const got = typeof h === 'string' && /^bearer /i.test(h) ? h.slice(7).trim() : '';
    return timingSafeEqual(createHash('sha256').update(got).digest(), keyHash);
  };
  const checkModel = (r: SamplingRequest): void => {
    if (r.model !== m.name) throw new OpenAIHttpError(404, 'not_found_error', `The model \`${r.model}\` does not exist (this server serves \`${m.name}\`)`, 'model', 'model_not_found');
    if (loading) throw new OpenAIHttpError(503, 'service_unavailable', 'loading a new policy version: retry shortly', null, 'loading');
  };

  const route = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<number> => {
    if (req.method === 'GET' && path === '/health') {
      const ok = loading === undefined;
      send(res, ok ? 200 : 503, { status: ok ? 'ok' : 'loading', model: m.name, version: m.held.version });
      return ok ? 200 : 503;
    }
    if (req.method === 'GET' && path === '/metrics') {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
      return 200;
    }
    if (!path.startsWith('/v1/')) throw new OpenAIHttpError(404, 'not_found_error', `no route ${req.method ?? ''} ${path}`);
    if (!authorized(req)) throw new OpenAIHttpError(401, 'authentication_error', 'missing or wrong API key (Authorization: Bearer ...)', null, 'invalid_api_key');
    if (req.method === 'GET' && path === '/v1/models') {
      send(res, 200, { object: 'list', data: [{ id: m.name, object: 'model', created: 0, owned_by: 'acereason', root: m.dir, max_model_len: m.maxPositions }] });
      return 200;
    }
    if (req.method === 'GET' && path === '/v1/weights_version') {
      send(res, 200, { version: m.held.version, weights_sha256: m.held.weightsSha256, model_dir: m.dir, loading: loading !== undefined });
      return 200;
    }
    if (req.method === 'POST' && path === '/v1/load_weights') {
      const b = await readJson(req);
      const dir = b.model_dir;
      if (typeof dir !== 'string' || dir === '') throw badParam('model_dir', 'required: a model directory on the server host');
      const v = b.version;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw badParam('version', 'required: the policy version number (an integer >= 0)');
      const sha = b.weights_sha256;
      if (sha !== undefined && typeof sha !== 'string') throw badParam('weights_sha256', 'expected a hex string');
      if (loading) throw new OpenAIHttpError(503, 'service_unavailable', 'already loading a version', null, 'loading');
      const p = decoderIdle(decoder).then(() => reloadWeights(m, dir, v, sha));
      loading = p;
      try {
        const held = await p;
        version.set(held.version);
        o.logger?.info({ version: held.version, sha: held.weightsSha256.slice(0, 12), dir }, 'policy version loaded');
        send(res, 200, { ok: true, version: held.version, weights_sha256: held.weightsSha256, model_dir: m.dir });
      } catch (err) {
        throw err instanceof AceReasonError ? badParam(err.field === 'dir' ? 'model_dir' : 'weights_sha256', err.message) : err;
      } finally {
        loading = undefined;
      }
      return 200;
    }
    if (req.method === 'POST' && (path === '/v1/completions' || path === '/v1/chat/completions')) {
      const b = await readJson(req);
      const chat = path === '/v1/chat/completions';
      const r = chat ? parseChat(b) : parseCompletion(b);
      checkModel(r);
      let prompts: Uint32Array[];
      if ('messages' in r) {
        if (!m.chatTemplate) throw new OpenAIHttpError(400, 'invalid_request_error', `model ${m.name} has no chat template: use /v1/completions`, 'messages');
        prompts = [m.tokenizer.encode(m.chatTemplate.render(r.messages as never, { addGenerationPrompt: true }))];
      } else {
        prompts = r.prompts.map((p) => ('text' in p ? m.tokenizer.encode(p.text) : Uint32Array.from(p.tokens)));
      }
      const id = `${chat ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
      if (r.stream) {
        await streamSamples(res, m, r, id, chat, (tap) => decoder.generate(generateRequests(m, r, prompts, tap)), (n) => tokens.inc(n));
        return 200;
      }
      const samples = await decoder.generate(generateRequests(m, r, prompts));
      tokens.inc(samples.reduce((a, s) => a + s.tokens.length, 0));
      const promptLogprobs = 'promptLogprobs' in r && r.promptLogprobs ? await scorePrompts(m, prompts) : undefined;
      send(res, 200, chat ? respondChat(m, r, id, prompts, samples) : respondCompletion(m, r, id, prompts, samples, promptLogprobs));
      return 200;
    }
    throw new OpenAIHttpError(404, 'not_found_error', `no route ${req.method ?? ''} ${path}`);
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    route(req, res, path).then(
      (status) => requests.inc({ route: path, status: String(status) }),
      (err: unknown) => {
        const e = err instanceof OpenAIHttpError ? err : err instanceof AceReasonError && err.field ? badParam(err.field, err.message) : new OpenAIHttpError(500, 'server_error', err instanceof Error ? err.message : String(err));
        if (e.status >= 500) o.logger?.error({ err: e.message, path }, 'request failed');
        requests.inc({ route: path, status: String(e.status) });
        if (res.headersSent) res.end();
        else send(res, e.status, e.body());
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8000, o.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return { url: `http://${o.host ?? '127.0.0.1'}:${port}`, port, decoder, close, [Symbol.asyncDispose]: close };
}

/** Each prompt token's logprob given the tokens before it, under the weights served (teacher-forced scoring). */
async function scorePrompts(m: ServedModel, prompts: Uint32Array[]): Promise<PromptLogprobs[]> {
  const scorable = prompts.map((p, i) => ({ p, i })).filter((x) => x.p.length >= 2);
  const scored = scorable.length ? await m.engine.score(scorable.map((x) => ({ tokens: x.p, scoreFrom: 1 }))) : [];
  const out: PromptLogprobs[] = prompts.map((p) => p.length ? [null] : []);
  scorable.forEach((x, k) => {
    const lp = scored[k]?.logprobs ?? new Float32Array();
    const row: PromptLogprobs = [null];
    for (let j = 1; j < x.p.length; j++) {
      const t = x.p[j] ?? 0;
      row.push({ [String(t)]: { logprob: lp[j - 1] ?? Number.NaN, decoded_token: m.tokenizer.decode([t]) } });
    }
    out[x.i] = row;
  });
  return out;
}

/** Waits until no row decodes or waits (a new version is swapped in between batches; requests meanwhile get 503). */
async function decoderIdle(d: ContinuousDecoder): Promise<void> {
  while (!d.idle) await new Promise((r) => setTimeout(r, 5));
}
