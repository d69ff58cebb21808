import { IntegrityError, ValidationError } from '@acereason/protocol';
import { validateModelConfig } from '../model/config.js';
import type { ModelConfig, ResolvedModelConfig } from '../model/config.js';
import { initWeights, paramSpecs } from '../model/params.js';
import type { NamedTensor } from '../model/params.js';
import { validateRuntimeOptions } from '../runtime/session.js';
import type { ExecutionProvider, RuntimeOptions } from '../runtime/session.js';
import { Trainer } from '../train/trainer.js';
import { allocateFlat, flatCopy } from '../train/flat.js';
import { GENERATION_DTYPES } from '../graphs/half.js';
import type { GenerationDtype } from '../graphs/half.js';
import { DEFAULT_LONG_SEQUENCE, headChunkTokensFor, validateLongSequence } from '../train/layered-model.js';
import type { LongSequenceOptions, StepProbe } from '../train/layered-model.js';
import { DEFAULT_OPTIMIZER, validateOptimizerConfig } from '../train/optimizer-config.js';
import type { OptimizerConfig } from '../train/optimizer-config.js';
import { selectModelWeights } from '../weights/hf.js';
import { weightsSha256 } from '../weights/hash.js';
import { readSafetensors, writeSafetensors } from '../weights/safetensors.js';
import { BAKE_LIMIT_BYTES, Generator } from './generator.js';
import { GENERATION_FUSED_OPS } from '../graphs/compile.js';
import type { FusedOps } from '../model/transformer.js';
import { ContinuousDecoder } from './continuous.js';
import type { GenerateRequest, GeneratedSample, HeldVersion, PolicyEngine, ScoreRequest, ScoreResult, TrainBatch, TrainStepResult, WeightsVersion } from './types.js';

export interface OnnxEngineOptions {
  model: ModelConfig;
  /** Named tensors (HF names) or safetensors bytes; fresh seeded weights if omitted. */
  weights?: readonly NamedTensor[] | Uint8Array;
  executionProvider?: ExecutionProvider;
  /** Intra-op threads (0 = ONNX Runtime default). */
  threads?: number;
  /** Seed for fresh weights. */
  seed?: number;
  optimizer?: Partial<OptimizerConfig>;
  /** Rows generated at once (default 64). */
  maxBatch?: number;
  /** Padded tokens per scoring run (default 8192). */
  scoreBatchTokens?: number;
  /** Weights up to this many bytes are baked into (and packed in) the generation graphs; default 1.5 GiB. */
  bakeWeightsUpToBytes?: number;
  /**
   * The engine takes the given tensors as they are instead of copying them: they must be in the
   * flat layout of `allocateFlat` in paramSpecs order, as `loadHfModelDir` returns them.
   */
  adoptWeights?: boolean;
  /**
   * Generation and scoring only (actors, `acereason generate`, serving): generation graphs that
   * take the weights as inputs use the engine's buffers instead of a private copy, loadVersion and
   * loadWeights take the given tensors without copying them (the caller must not change them
   * afterwards), and trainStep is refused.
   */
  inferenceOnly?: boolean;
  /** Block sizes of the long-sequence path of scoring and training (attention blocks; LM-head chunk, default headChunkTokensFor(vocab)). */
  longSequence?: { attentionBlocks?: Partial<LongSequenceOptions['attentionBlocks']>; headChunkTokens?: number };
  /**
   * Precision of the generation graphs: float32 (default), or a float16 / bfloat16 copy of the
   * float32 master weights (training, scoring and the optimizer stay float32). An execution
   * provider without kernels for that dtype is refused when the first generation graph is built.
   */
  generationDtype?: GenerationDtype;
  /**
   * ONNX Runtime contrib kernels of the generation graphs (default GENERATION_FUSED_OPS; see the
   * policy README's measurements): `rotary`, `skipNorm`, `gqa` (GroupQueryAttention, with the KV
   * cache laid out per row for it).
   */
  generationFusedOps?: FusedOps;
}

const clone = (t: NamedTensor): NamedTensor => ({ name: t.name, dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.data) });

/** The embedded engine: the model's ONNX graphs on onnxruntime-node, both a RolloutEngine and a TrainingEngine. */
export class OnnxEngine implements PolicyEngine {
  private weights: NamedTensor[];
  private hash: string | undefined;
  private held: HeldVersion | undefined;
  private generator: Promise<Generator> | undefined;
  private readonly trainer: Trainer;
  /** score/trainStep/loadWeights run one at a time: a train step updates the weights in place. */
  private queue: Promise<unknown> = Promise.resolve();

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  constructor(readonly model: ResolvedModelConfig, weights: NamedTensor[], private readonly rt: RuntimeOptions, readonly optimizer: OptimizerConfig, private readonly maxBatch: number, private readonly scoreTokens: number, private readonly bakeLimit: number, long: LongSequenceOptions, private readonly inferenceOnly = false, readonly generationDtype: GenerationDtype = 'float32', readonly generationFusedOps: FusedOps = GENERATION_FUSED_OPS) {
    this.weights = weights;
    this.trainer = new Trainer(model, optimizer, rt, () => this.weights, long);
  }

  private async genState(): Promise<Generator> {
    if (this.generator === undefined) {
      const g = Generator.create(this.model, this.weights, this.rt, this.maxBatch, this.bakeLimit, this.inferenceOnly, this.generationDtype, this.generationFusedOps);
      this.generator = g;
      // A refused build (e.g. a dtype the execution provider cannot run) is not cached.
      g.catch(() => {
        if (this.generator === g) this.generator = undefined;
      });
    }
    return this.generator;
  }

  async generate(requests: readonly GenerateRequest[]): Promise<GeneratedSample[]> {
    // Captures the current weights' generator: a concurrent loadWeights() does not affect this call.
    const gen = await this.genState();
    return gen.generate(requests);
  }

  /**
   * A continuous-batching decode loop over this engine (concurrent calls join its running batch,
   * up to `maxRows` rows, default the engine's maxBatch); it follows loaded weights between batches.
   */
  continuous(maxRows = this.maxBatch): ContinuousDecoder {
    return new ContinuousDecoder(() => this.genState(), maxRows);
  }

  /** Per-position logprob of the next token and entropy, for each full sequence (length n - 1). */
  private scorePositions(seqs: readonly Uint32Array[], temperature: number): Promise<ScoreResult[]> {
    return this.trainer.score(seqs, temperature, this.scoreTokens);
  }

  async score(requests: readonly ScoreRequest[], temperature = 1): Promise<ScoreResult[]> {
    if (!(temperature > 0)) throw new ValidationError('temperature', 'must be > 0');
    requests.forEach((r, i) => {
      if (r.tokens.length < 2) throw new ValidationError(`requests[${i}].tokens`, 'need at least 2 tokens');
      if (r.tokens.length > this.model.maxPositions) throw new ValidationError(`requests[${i}].tokens`, `longer than maxPositions (${this.model.maxPositions})`);
      if (r.tokens.some((t) => t >= this.model.vocabSize)) throw new ValidationError(`requests[${i}].tokens`, 'token id outside the vocabulary');
      const from = r.scoreFrom ?? 1;
      if (!Number.isInteger(from) || from < 1 || from > r.tokens.length) throw new ValidationError(`requests[${i}].scoreFrom`, `must be in [1, ${r.tokens.length}]`);
    });
    const raw = await this.exclusive(() => this.scorePositions(requests.map((r) => r.tokens), temperature));
    return raw.map((r, i) => {
      const from = (requests[i]?.scoreFrom ?? 1) - 1;
      return { logprobs: r.logprobs.slice(from), entropy: r.entropy.slice(from) };
    });
  }

  async trainStep(batch: TrainBatch, probe?: StepProbe): Promise<TrainStepResult> {
    if (this.inferenceOnly) throw new ValidationError('inferenceOnly', 'this engine was created for inference only: trainStep is refused');
    return this.exclusive(async () => {
      try {
        return await this.trainer.step(batch, probe);
      } finally {
        this.invalidate();
      }
    });
  }

  private invalidate(): void {
    this.hash = undefined;
    this.held = undefined; // a train step moved the weights off every published version

    const old = this.generator;
    this.generator = undefined;
    if (old !== undefined) void old.then((g) => g.release()).catch(() => undefined);
  }

  exportWeights(): NamedTensor[] {
    return this.weights.map(clone);
  }

  exportSafetensors(): Uint8Array {
    return writeSafetensors(this.weights, { format: 'pt', acereason_sha256: this.weightsSha256() });
  }

  loadWeights(tensors: readonly NamedTensor[] | Uint8Array): Promise<void> {
    return this.exclusive(() => this.swapWeights(tensors));
  }

  /** Loads a version whose weights hash to its digest (checked before anything changes: a refused version leaves the engine as it was). */
  loadVersion(w: WeightsVersion): Promise<HeldVersion> {
    return this.exclusive(async () => {
      const next = selectModelWeights(this.model, w.tensors);
      const got = weightsSha256(next);
      if (got !== w.weightsSha256) throw new IntegrityError(`version ${w.version}: the weights hash to ${got.slice(0, 12)}, the version is ${w.weightsSha256.slice(0, 12)}`);
      await this.swapWeights(next);
      this.held = { version: w.version, weightsSha256: got };
      return this.held;
    });
  }

  heldVersion(): HeldVersion | undefined {
    return this.held;
  }

  private async swapWeights(tensors: readonly NamedTensor[] | Uint8Array): Promise<void> {
    const list = tensors instanceof Uint8Array ? readSafetensors(tensors).tensors : tensors;
    // Inference only: the version's tensors are taken as they are (nothing here changes them), so an
    // actor or server swapping versions does not hold a third copy while the new graphs build.
    const picked = selectModelWeights(this.model, list);
    const next = this.inferenceOnly ? [...picked] : flatCopy(picked);
    // Build the new generation session before swapping, so the swap is atomic for callers.
    const gen = await Generator.create(this.model, next, this.rt, this.maxBatch, this.bakeLimit, this.inferenceOnly, this.generationDtype, this.generationFusedOps);
    const old = this.generator;
    this.weights = next;
    this.hash = undefined;
    this.held = undefined;
    this.generator = Promise.resolve(gen);
    if (old !== undefined) void old.then((g) => g.release()).catch(() => undefined);
  }

  weightsSha256(): string {
    this.hash ??= weightsSha256(this.weights);
    return this.hash;
  }

  saveOptimizerState(): Uint8Array {
    return this.trainer.adam.save();
  }

  loadOptimizerState(bytes: Uint8Array): void {
    this.trainer.adam.load(bytes);
  }

  resetOptimizer(): void {
    this.trainer.adam.reset();
  }

  /** The optimizer state as tensors (views) for streamed, sharded checkpoints. */
  optimizerStateTensors(): { step: number; tensors: NamedTensor[] } {
    return this.trainer.adam.stateTensors();
  }

  loadOptimizerStateTensors(step: number, tensors: readonly NamedTensor[]): void {
    this.trainer.adam.loadStateTensors(step, tensors);
  }

  /** The current weights without copying (paramSpecs order); valid until the next train step or load. */
  weightViews(): readonly NamedTensor[] {
    return this.weights;
  }

  async dispose(): Promise<void> {
    await this.trainer.dispose();
    if (this.generator) await (await this.generator).release();
    this.generator = undefined;
  }
}

export async function createOnnxEngine(opts: OnnxEngineOptions): Promise<OnnxEngine> {
  const model = validateModelConfig(opts.model);
  const rt: RuntimeOptions = { executionProvider: opts.executionProvider ?? 'cpu', threads: opts.threads ?? 0 };
  validateRuntimeOptions(rt);
  const optimizer = validateOptimizerConfig({ ...DEFAULT_OPTIMIZER, ...opts.optimizer });
  let weights: NamedTensor[];
  if (opts.weights === undefined) {
    // Straight into the flat buffers: a full-size model is never held twice.
    const flat = allocateFlat(paramSpecs(model));
    weights = initWeights(model, opts.seed ?? 0, (_, k) => (flat[k] as NamedTensor).data);
  }
  else {
    const list = opts.weights instanceof Uint8Array ? readSafetensors(opts.weights).tensors : opts.weights;
    weights = opts.adoptWeights === true && !(opts.weights instanceof Uint8Array) ? selectModelWeights(model, list) : flatCopy(selectModelWeights(model, list));
  }
  const long = validateLongSequence({ ...DEFAULT_LONG_SEQUENCE, headChunkTokens: headChunkTokensFor(model.vocabSize), ...opts.longSequence, attentionBlocks: { ...DEFAULT_LONG_SEQUENCE.attentionBlocks, ...opts.longSequence?.attentionBlocks } });
  const generationDtype = opts.generationDtype ?? 'float32';
  if (!GENERATION_DTYPES.includes(generationDtype)) throw new ValidationError('generationDtype', `must be one of ${GENERATION_DTYPES.join(', ')}, got ${String(generationDtype)}`);
  const fused = opts.generationFusedOps ?? GENERATION_FUSED_OPS;
  for (const [k, v] of Object.entries(fused)) {
    if (!['rotary', 'skipNorm', 'gqa'].includes(k) || typeof v !== 'boolean') throw new ValidationError(`generationFusedOps.${k}`, 'expected one of rotary, skipNorm, gqa with a boolean value');
  }
  const maxBatch = opts.maxBatch ?? 64;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new ValidationError('maxBatch', 'must be an integer >= 1');
  return new OnnxEngine(model, weights, rt, optimizer, maxBatch, opts.scoreBatchTokens ?? 8192, opts.bakeWeightsUpToBytes ?? BAKE_LIMIT_BYTES, long, opts.inferenceOnly === true, generationDtype, fused);
}
