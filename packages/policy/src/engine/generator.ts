import ort from 'onnxruntime-node';
import type { ResolvedModelConfig } from '../model/config.js';
import type { OrtSession, Feeds, RuntimeOptions } from '../runtime/session.js';
import { createSession, f32 } from '../runtime/session.js';
import { EMBED_TABLE_INPUT, GENERATION_FUSED_OPS, buildGenerationGraph } from '../graphs/compile.js';
import type { FusedOps } from '../model/transformer.js';
import type { ExternalData } from '../onnx/serialize.js';
import type { NamedTensor } from '../model/params.js';
import { DecodeBatch, sampleOf, type DecodeSessions, type Row } from './decode-batch.js';
import { ropeInvFreq } from '../graphs/host-inputs.js';
import { halfBits, toHalfModel } from '../graphs/half.js';
import type { GenerationDtype } from '../graphs/half.js';
import { SampleRng } from '../sampling/rng.js';
import { validateSampling } from '../sampling/sampler.js';
import type { GenerateRequest, GeneratedSample } from './types.js';
import { ValidationError } from '@acereason/protocol';


export { KV_BUDGET_BYTES } from './decode-batch.js';
/** Weights up to this size are baked into the generation graphs (and packed); larger ones are fed. */
export const BAKE_LIMIT_BYTES = 1.5 * 2 ** 30;
/** Small batches of models up to this size decode on a single-threaded session (see `create`). */
const SMALL_DECODE_LIMIT_BYTES = 256 * 2 ** 20;

/**
 * Batched generation over the prefill/decode graph (see DecodeBatch): a call's rows run in
 * batches of up to `maxBatch`, each prefilled right-padded and decoded until its last row ends.
 */
export class Generator {
  private readonly sessions: DecodeSessions;

  private constructor(
    private readonly c: ResolvedModelConfig,
    decode: OrtSession,
    private readonly maxBatch: number,
    weightFeeds: Feeds,
    smallDecode: OrtSession | undefined,
  ) {
    this.sessions = { c, decode, smallDecode, weightFeeds, inv: ropeInvFreq(c), scratch: new Float64Array(c.vocabSize), order: new Int32Array(c.vocabSize) };
  }

  get config(): ResolvedModelConfig {
    return this.c;
  }

  /** Compiles the generation graph with `weights` baked in (or fed, above `bakeLimit` bytes). */
  /** `share`: fed weights (and a baked graph's fed embedding) use the caller's buffers (which must then not change while it runs) instead of a copy. */
  /** `dtype`: the graphs' precision (a half-precision copy of the float32 weights; see graphs/half.ts). */
  /** `fused`: the contrib kernels of the graph (with `gqa`, DecodeBatch lays the cache out for GroupQueryAttention). */
  static async create(c: ResolvedModelConfig, weights: readonly NamedTensor[], rt: RuntimeOptions, maxBatch: number, bakeLimit = BAKE_LIMIT_BYTES, share = false, dtype: GenerationDtype = 'float32', fused: FusedOps = GENERATION_FUSED_OPS): Promise<Generator> {
    // ONNX models are one protobuf (2 GiB limit): larger models get their weights as inputs.
    const bytes = weights.reduce((n, t) => n + t.data.byteLength, 0);
    const bake = bytes <= bakeLimit;
    const fed = new Set(bake ? [] : weights.map((t) => t.name));
    // float32 baked: the ids are looked up in the fed embedding (ONNX Runtime keeps one copy of the
    // tied head, not two), and the initializers stay in their buffers as external data (no copy in
    // the protobuf nor in ONNX Runtime's parse of it).
    const f32Graph = dtype === 'float32';
    const embedInput = bake && f32Graph;
    const embed = weights.find((t) => t.name === 'model.embed_tokens.weight');
    if (embed === undefined) throw new Error('weights lack model.embed_tokens.weight');
    const session = async (o: RuntimeOptions): Promise<OrtSession> => {
      const external: ExternalData[] = [];
      const g = buildGenerationGraph(c, bake ? weights : 'inputs', 'decode', { embedInput, fused, ...(f32Graph ? { external } : {}) });
      try {
        return await createSession(f32Graph ? g : toHalfModel(g, dtype, fed), o, external);
      } catch (e) {
        // ONNX Runtime refuses a graph with an op it has no kernel for in this dtype (the CPU EP has no bfloat16 MatMul).
        if (dtype === 'float32') throw e;
        throw new ValidationError('generationDtype', `${dtype} generation graphs cannot run on the ${o.executionProvider} execution provider: ${(e as Error).message}`);
      }
    };
    // onnxruntime-node has no bfloat16 tensor type, so bfloat16 weights can only be baked in.
    if (dtype === 'bfloat16' && !bake) throw new ValidationError('generationDtype', `bfloat16 needs the weights baked into the graphs (onnxruntime-node cannot feed bfloat16 tensors), and ${bytes} bytes exceed bakeWeightsUpToBytes (${bakeLimit})`);
    // One session prefills and decodes (see DecodeSessions.decode): ONNX Runtime holds its own copy
    // of baked weights per session, so a separate prefill session would hold a second one.
    const decode = await session(rt);
    const weightFeeds: Feeds = {};
    if (embedInput) weightFeeds[EMBED_TABLE_INPUT] = f32(share ? embed.data : Float32Array.from(embed.data), embed.shape);
    if (!bake) {
      for (const t of weights) weightFeeds[t.name] = dtype === 'float32' ? f32(share ? t.data : Float32Array.from(t.data), t.shape) : new ort.Tensor('float16', halfBits(t.data, 'float16'), t.shape);
    }
    // A decode step of one or two rows is too small to split across threads, and a multi-threaded
    // pool stalls whenever one of its workers is descheduled (a shared machine): small batches of
    // small models decode on their own single-threaded session.
    const small = rt.threads !== 1 && bytes <= SMALL_DECODE_LIMIT_BYTES ? await session({ ...rt, threads: 1 }) : undefined;
    return new Generator(c, decode, maxBatch, weightFeeds, small);
  }

  async release(): Promise<void> {
    await this.sessions.decode.release();
    await this.sessions.smallDecode?.release();
  }

  async generate(requests: readonly GenerateRequest[]): Promise<GeneratedSample[]> {
    const rows = this.rows(requests);
    for (let i = 0; i < rows.length; i += this.maxBatch) await this.runBatch(rows.slice(i, i + this.maxBatch));
    const failed = rows.find((r) => r.error !== undefined);
    if (failed) throw failed.error;
    return rows.map(sampleOf);
  }

  /** The rows of `requests` (every sample of each), checked against the model. */
  rows(requests: readonly GenerateRequest[]): Row[] {
    const rows: Row[] = [];
    requests.forEach((r, i) => {
      const f = `requests[${i}]`;
      validateSampling(r.sampling, `${f}.sampling`);
      if (r.promptTokens.length === 0) throw new ValidationError(`${f}.promptTokens`, 'must not be empty');
      if (r.promptTokens.length >= this.c.maxPositions) throw new ValidationError(`${f}.promptTokens`, `longer than maxPositions (${this.c.maxPositions})`);
      if (r.promptTokens.some((t) => t >= this.c.vocabSize)) throw new ValidationError(`${f}.promptTokens`, 'token id outside the vocabulary');
      if (!Number.isInteger(r.numSamples) || r.numSamples < 1) throw new ValidationError(`${f}.numSamples`, 'must be an integer >= 1');
      for (let s = 0; s < r.numSamples; s++) {
        rows.push({ sampleKey: r.sampleKey, sampleIndex: s, prompt: r.promptTokens, sampling: r.sampling, rng: new SampleRng(r.seed, r.sampleKey, s), stopWhen: r.stopWhen, onToken: r.onToken, tokens: [], logprobs: [], entropy: [] });
      }
    });
    return rows;
  }

  /** A decode batch over these sessions that rows can join between steps (continuous batching). */
  batch(): DecodeBatch {
    return new DecodeBatch(this.sessions);
  }

  private async runBatch(rows: Row[]): Promise<void> {
    const b = this.batch();
    await b.admit(rows);
    while (b.size > 0) await b.step();
  }
}

