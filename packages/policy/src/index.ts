// Model definition and config
export { validateModelConfig, modelConfigFromHf, DEMO_MODEL } from './model/config.js';
export type { ModelConfig, ResolvedModelConfig } from './model/config.js';
export { paramSpecs, initWeights } from './model/params.js';
export type { NamedTensor, ParamSpec } from './model/params.js';

// The engine boundary and the embedded ONNX Runtime engine
export type {
  PolicyEngine,
  GenerateRequest,
  GeneratedSample,
  FinishReason,
  ScoreRequest,
  ScoreResult,
  TrainSequence,
  TrainBatch,
  TrainStepResult,
} from './engine/types.js';
export { createOnnxEngine, OnnxEngine } from './engine/onnx-engine.js';
export type { OnnxEngineOptions } from './engine/onnx-engine.js';
export type { ExecutionProvider, RuntimeOptions } from './runtime/session.js';

// Training configuration
export { validateLossConfig, tokenWeights } from './train/loss-config.js';
export type { LossConfig, Aggregation } from './train/loss-config.js';
export { DEFAULT_OPTIMIZER, validateOptimizerConfig, learningRateAt } from './train/optimizer-config.js';
export type { OptimizerConfig, Schedule } from './train/optimizer-config.js';

// Sampling
export { validateSampling } from './sampling/sampler.js';
export type { SamplingParams } from './sampling/sampler.js';
export { SampleRng } from './sampling/rng.js';

// Weights
export { readSafetensors, writeSafetensors } from './weights/safetensors.js';
export type { SafetensorsFile } from './weights/safetensors.js';
export { weightsSha256, tensorDigests } from './weights/hash.js';
export { selectModelWeights } from './weights/hf.js';
export { loadHfCheckpoint } from './weights/checkpoint.js';

// Tokenizers
export type { Tokenizer } from './tokenizer/tokenizer.js';
export { CharTokenizer, DEMO_ALPHABET } from './tokenizer/char.js';
export { HfJsonTokenizer, loadHfTokenizer } from './tokenizer/hf.js';

// Graph compilation (for tools and tests)
export { buildGenerationGraph, buildScoringGraph, buildTrainingGraph } from './graphs/compile.js';
export { benchPolicy, BENCH_MODEL } from './bench/policy-bench.js';
export { tokenizerFromSpec, type TokenizerSpec } from './tokenizer/spec.js';
