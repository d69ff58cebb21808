// Model definition and config
export { validateModelConfig, DEMO_MODEL } from './model/config.js';
export type { ModelConfig, ResolvedModelConfig } from './model/config.js';
export { modelConfigFromHf, hfConfigFromModel, SUPPORTED_ARCHITECTURES } from './model/hf-config.js';
export type { HfArchitecture } from './model/hf-config.js';
export { ropeInvFreq } from './model/rope.js';
export type { RopeScaling, Llama3RopeScaling } from './model/rope.js';
export { paramSpecs, initWeights } from './model/params.js';
export type { NamedTensor, ParamSpec } from './model/params.js';

// The engine boundary and the embedded ONNX Runtime engine
export type {
  PolicyEngine,
  RolloutEngine,
  TrainingEngine,
  HeldVersion,
  WeightsVersion,
  GenerateRequest,
  GeneratedSample,
  TokenObserver,
  FinishReason,
  ScoreRequest,
  ScoreResult,
  TrainSequence,
  TrainBatch,
  TrainStepResult,
} from './engine/types.js';
export { createOnnxEngine, OnnxEngine } from './engine/onnx-engine.js';
export type { OnnxEngineOptions } from './engine/onnx-engine.js';
export { ContinuousDecoder } from './engine/continuous.js';
export type { ContinuousStats } from './engine/continuous.js';
export type { ExecutionProvider, RuntimeOptions } from './runtime/session.js';

// Training configuration
export { validateLossConfig, tokenWeights } from './train/loss-config.js';
export type { LossConfig, Aggregation } from './train/loss-config.js';
export { DEFAULT_OPTIMIZER, validateOptimizerConfig, learningRateAt } from './train/optimizer-config.js';
export type { OptimizerConfig, Schedule } from './train/optimizer-config.js';

// Sampling
export { validateSampling, sampleToken } from './sampling/sampler.js';
export type { SamplingParams } from './sampling/sampler.js';
export { SampleRng } from './sampling/rng.js';

// Weights
export { readSafetensors, writeSafetensors } from './weights/safetensors.js';
export type { SafetensorsFile } from './weights/safetensors.js';
export { weightsSha256, tensorDigests } from './weights/hash.js';
export { selectModelWeights, harmlessExtraTensor } from './weights/hf.js';
export { loadHfCheckpoint } from './weights/checkpoint.js';
// Hugging Face model directories: streamed loading, sharded atomic writing
export { loadHfModelDir } from './weights/hf-model-dir.js';
export type { HfModelDir } from './weights/hf-model-dir.js';
export { planHfWeights, readHfWeights } from './weights/hf-dir-reader.js';
export type { HfWeightsPlan } from './weights/hf-dir-reader.js';
export { readHfAssets, assetsFromFiles, chatTemplateOf } from './weights/hf-assets.js';
export type { HfAssets } from './weights/hf-assets.js';
export { writeHfModelDir, writeSafetensorsShards, writeFolderAtomically, writeSynced, fsyncDir, planShards, shardLayout, DEFAULT_MAX_SHARD_BYTES } from './weights/hf-dir-writer.js';
export type { HfModelDirWrite, SafetensorsShardsOptions } from './weights/hf-dir-writer.js';
export { writeSafetensorsFile, tensorBytes } from './weights/safetensors-writer.js';
export { writeSafetensorsFileAsync, writeSafetensorsShardsAsync, writeFolderAtomicallyAsync, writeSyncedAsync, fsyncDirAsync } from './weights/async-writer.js';
export type { AsyncWriteOptions } from './weights/async-writer.js';
export type { TensorSource, WriteDtype } from './weights/safetensors-writer.js';
export { readSafetensorsHeader, readSafetensorsHeaderAt, readTensorF32 } from './weights/safetensors-file.js';
export type { SafetensorsEntry, SafetensorsHeader, StoredDtype } from './weights/safetensors-file.js';
export { HF_FILES, HF_ASSET_FILES, readJsonFile } from './weights/hf-files.js';
export { writeRandomHfModelDir } from './weights/random-model.js';
export type { RandomModelDirOptions } from './weights/random-model.js';
export { HF_CONFIGS, hfPreset } from './model/hf-presets.js';
export type { HfPreset } from './model/hf-presets.js';

// Tokenizers, chat templates, prompt formats, stop strings
export type { Tokenizer, EncodeOptions } from './tokenizer/tokenizer.js';
export { ChatTemplate } from './tokenizer/chat-template.js';
export type { ChatMessage } from './tokenizer/chat-template.js';
export { RECIPE_INSTRUCTIONS, encodePrompt, promptText } from './tokenizer/prompt-format.js';
export type { PromptFormat, PromptTokenizer } from './tokenizer/prompt-format.js';
export { stopStringChecker } from './tokenizer/stop-strings.js';
export { modelTokenizerFromAssets } from './tokenizer/model-tokenizer.js';
export type { ModelTokenizer } from './tokenizer/model-tokenizer.js';
export { CharTokenizer, DEMO_ALPHABET } from './tokenizer/char.js';
export { charTokenizerFiles, modelDirFiles } from './tokenizer/char-hf.js';
export { HfJsonTokenizer, loadHfTokenizer } from './tokenizer/hf.js';

// Graph compilation (for tools and tests)
export { buildGenerationGraph, buildScoringGraph, buildTrainingGraph } from './graphs/compile.js';
export { benchPolicy, BENCH_MODEL } from './bench/policy-bench.js';
export { benchLong, longStepFlops } from './bench/long-bench.js';
export { benchFusedOps } from './bench/fused-ops-bench.js';
export { benchOptimizer } from './bench/optimizer-bench.js';
export type { OptimizerBenchOptions } from './bench/optimizer-bench.js';
export type { LongBenchOptions } from './bench/long-bench.js';
export { tokenizerFromSpec, type TokenizerSpec } from './tokenizer/spec.js';
export { benchModel } from './bench/model-bench.js';
export { headChunkTokensFor } from './train/layered-model.js';
export { GENERATION_DTYPES } from './graphs/half.js';
export type { GenerationDtype } from './graphs/half.js';
