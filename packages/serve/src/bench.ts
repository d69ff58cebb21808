/**
 * `acereason bench serve`: requests/s and generated tokens/s through `acereason serve` at 1, 8 and
 * 32 concurrent clients, against the same requests given to the embedded engine directly with the
 * same continuous batching (the HTTP and JSON overhead), alternating per round; and the time to load
 * a new version through /v1/load_weights. A reduced Qwen3 shape (real tokenizer, random weights).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternate, benchHost, MIN_ROUNDS, spread, type BenchOptions, type BenchReport } from '@acereason/protocol';
import { loadServedModel, type ServedModel } from './served-model.js';
import { startServe } from './server.js';
import { generateRequests } from './sampling.js';
import { parseCompletion } from './request.js';
import { writeTestModelDir } from './test-model.js';

const MAX_TOKENS = 16;
const CLIENTS = [1, 8, 32] as const;
const MAX_BATCH = 64;

interface Figures {
  requests_per_s: number;
  tokens_per_s: number;
}

/** `clients` loops, each sending `perClient` requests one after another; returns throughput. */
async function drive(clients: number, perClient: number, one: (i: number) => Promise<number>): Promise<Figures> {
  const t0 = performance.now();
  let tokens = 0;
  await Promise.all([...Array(clients).keys()].map(async (c) => {
    for (let k = 0; k < perClient; k++) {
      const n = await one(c * perClient + k); // (not `tokens += await`: that reads tokens before the wait)
      tokens += n;
    }
  }));
  const s = (performance.now() - t0) / 1000;
  return { requests_per_s: (clients * perClient) / s, tokens_per_s: tokens / s };
}

const body = (m: ServedModel, i: number): Record<string, unknown> => ({ model: m.name, prompt: `Request ${i}: the answer is`, max_tokens: MAX_TOKENS, seed: i, temperature: 1 });

export async function benchServe(opts: BenchOptions = {}): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), 'acereason-bench-serve-'));
  try {
    writeTestModelDir(join(dir, 'v0'), 1);
    writeTestModelDir(join(dir, 'v1'), 2);
    const model = await loadServedModel(join(dir, 'v0'), { name: 'bench', threads: 1 });
    await using server = await startServe({ model, port: 0, maxBatch: MAX_BATCH });
    const direct = model.engine.continuous(MAX_BATCH);
    const rounds = opts.quick ? 2 : MIN_ROUNDS;
    const perClient = opts.quick ? 1 : 2;
    const out: Record<string, unknown> = {};
    const ratios: Record<string, number> = {};
    for (const clients of CLIENTS) {
      const viaHttp = (i: number): Promise<number> => fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(model, i)) })
        .then((r) => r.json() as Promise<{ usage: { completion_tokens: number } }>).then((j) => j.usage.completion_tokens);
      const viaEngine = async (i: number): Promise<number> => {
        const r = parseCompletion(body(model, i));
        const samples = await direct.generate(generateRequests(model, r, r.prompts.map((p) => ('text' in p ? model.tokenizer.encode(p.text) : Uint32Array.from(p.tokens)))));
        return samples.reduce((a, s) => a + s.tokens.length, 0);
      };
      await drive(clients, 1, viaHttp); // warm-up
      const rep = await alternate({
        rounds, better: { requests_per_s: 'higher', tokens_per_s: 'higher' },
        ours: () => drive(clients, perClient, viaHttp) as unknown as Promise<Record<'requests_per_s' | 'tokens_per_s', number>>,
        baseline: () => drive(clients, perClient, viaEngine) as unknown as Promise<Record<'requests_per_s' | 'tokens_per_s', number>>,
      });
      out[`clients_${clients}`] = rep.figures;
      ratios[`http_vs_engine_tokens_per_s_${clients}`] = rep.ratios.tokens_per_s;
    }
    const loadMs: number[] = [];
    for (let k = 0; k < (opts.quick ? 1 : 3); k++) {
      const t0 = performance.now();
      const r = await fetch(`${server.url}/v1/load_weights`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model_dir: join(dir, k % 2 === 0 ? 'v1' : 'v0'), version: k + 1 }) });
      if (r.status !== 200) throw new Error(`load_weights answered ${r.status}: ${await r.text()}`);
      loadMs.push(performance.now() - t0);
    }
    await model.engine.dispose();
    return {
      suite: 'serve', host: benchHost(),
      config: { model: 'Qwen3 shape reduced to 1 layer, hidden 32 (vocabulary 151,936), random weights; 1 ONNX Runtime thread', max_tokens: MAX_TOKENS, requests_per_client_per_round: perClient, rounds },
      throughput: out,
      load_new_version_ms: spread(loadMs),
      notes: [
        'ours = the OpenAI API over HTTP (JSON in and out, node fetch clients in the same process); baseline = the same requests to the embedded engine with the same continuous batching (its own decode loop), no HTTP',
        'ratios http_vs_engine_tokens_per_s_<clients> = median per-round ratio of generated tokens/s, HTTP / direct: 1 = no overhead, below 1 = the cost of HTTP and JSON',
        'load_new_version_ms: POST /v1/load_weights of a model directory on local disk (read, check, build the generation sessions) until its answer',
      ],
      ratios,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
