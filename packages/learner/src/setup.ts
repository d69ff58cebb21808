/** Builds what a learner process needs from a RunConfig: tokenizer, engine, datasets, checkpoint. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError, type RunSpec } from '@acereason/protocol';
import { CharTokenizer, DEMO_ALPHABET, HF_FILES, type ChatTemplate, DEMO_MODEL, createOnnxEngine, loadHfModelDir, loadHfTokenizer, modelConfigFromHf, modelTokenizerFromAssets, readHfAssets, readJsonFile, type ModelConfig, type NamedTensor, type PolicyEngine, type Tokenizer } from '@acereason/policy';
import type { RunConfig } from './config/run-config.js';
import { loadDataset, type Dataset } from './data/dataset.js';
import { loadLatestCheckpoint, type Checkpoint } from './checkpoint/checkpoint.js';
import { encodeDatasetPrompt } from './loop/tasks.js';

/** Errors about a model directory name the run file's field as well as the file inside. */
function inModelDir<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ValidationError('model.path', `${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** What the learner prompts with and what workers joining the run are told about it. */
export interface RunTokenizer {
  tokenizer: Tokenizer;
  /** The model's chat template (model directories that have one). */
  chatTemplate?: ChatTemplate;
  spec: RunSpec['tokenizer'];
  /** Files workers need, shipped through the assets object store (names as in a model directory). */
  files: Record<string, Uint8Array>;
}

export function tokenizerFor(config: RunConfig): RunTokenizer {
  const dir = config.model.path;
  if (dir !== undefined) {
    const assets = inModelDir(dir, () => readHfAssets(dir));
    const t = inModelDir(dir, () => modelTokenizerFromAssets(assets, dir, modelConfigFor(config).vocabSize));
    const files = { ...assets.files, [HF_FILES.config]: inModelDir(dir, () => readFileSync(join(dir, HF_FILES.config))) };
    return { tokenizer: t.tokenizer, ...(t.chatTemplate ? { chatTemplate: t.chatTemplate } : {}), spec: { kind: 'hf' }, files };
  }
  if (config.model.tokenizer === 'char') return { tokenizer: new CharTokenizer(DEMO_ALPHABET), spec: { kind: 'char', alphabet: DEMO_ALPHABET }, files: {} };
  let json: Uint8Array;
  try {
    json = readFileSync(config.model.tokenizer);
  } catch (err) {
    throw new ValidationError('model.tokenizer', `cannot read ${config.model.tokenizer}: ${(err as Error).message}`);
  }
  return { tokenizer: loadHfTokenizer(Buffer.from(json).toString('utf8')), spec: { kind: 'hf' }, files: { [HF_FILES.tokenizer]: json } };
}

/**
 * Refuses, before anything starts, a dataset prompted in chat mode without a chat template, and a
 * template that does not render (the error names the dataset's field and the template's file).
 */
export function checkDatasetPrompts(config: RunConfig, t: RunTokenizer): void {
  for (const [name, d] of Object.entries(config.datasets)) {
    if (d.prompt.kind !== 'format') continue;
    const field = `datasets.${name}.prompt`;
    if (d.prompt.format.mode === 'chat' && t.chatTemplate === undefined) {
      throw new ValidationError(`${field}.mode`, `chat needs the model's chat template, and ${config.model.path ?? 'the tokenizer'} has none (tokenizer_config.json:chat_template or chat_template.jinja); use prompt: { mode: raw } or prompt_template`);
    }
    try {
      encodeDatasetPrompt(d.prompt, t, 'What is 1+1?');
    } catch (err) {
      throw new ValidationError(field, (err as Error).message, { cause: err });
    }
  }
}

export function modelConfigFor(config: RunConfig): ModelConfig {
  const dir = config.model.path;
  if (dir !== undefined) return inModelDir(dir, () => modelConfigFromHf(readJsonFile(dir, 'config.json', true)));
  if (config.model.preset === 'demo') return DEMO_MODEL;
  const path = config.model.configPath as string;
  try {
    return modelConfigFromHf(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>);
  } catch (err) {
    throw new ValidationError('model.config', `cannot load ${path}: ${(err as Error).message}`);
  }
}

export function loadDatasets(config: RunConfig): Record<string, Dataset> {
  const out: Record<string, Dataset> = {};
  const used = new Set([...config.stages.map((s) => s.dataset), ...(config.eval?.datasets ?? [])]);
  for (const [name, d] of Object.entries(config.datasets)) if (used.has(name)) out[name] = loadDataset(name, d.path, d.domain, { decimalComma: d.decimalComma });
  return out;
}

export interface LearnerSetup {
  engine: PolicyEngine;
  resume: Checkpoint | undefined;
  /** Seconds it took to read the resumed checkpoint (weights and optimizer state). */
  resumeReadSeconds?: number;
}

/** Creates the engine from the latest checkpoint (unless `fresh`), else from `model.init` or a seeded init. */
export async function createLearnerEngine(config: RunConfig, opts: { fresh?: boolean } = {}): Promise<LearnerSetup> {
  const t0 = performance.now();
  const resume = opts.fresh ? undefined : loadLatestCheckpoint(config.checkpoint.dir);
  const resumeReadSeconds = (performance.now() - t0) / 1000;
  let weights: Uint8Array | NamedTensor[] | undefined = resume?.weights;
  const dir = config.model.path;
  if (!weights && dir !== undefined) weights = inModelDir(dir, () => loadHfModelDir(dir).weights);
  if (!weights && config.model.init) {
    try {
      weights = readFileSync(config.model.init);
    } catch (err) {
      throw new ValidationError('model.init', `cannot read ${config.model.init}: ${(err as Error).message}`);
    }
  }
  const engine = await createOnnxEngine({
    model: modelConfigFor(config),
    // Tensors from a model directory or checkpoint are already in the engine's flat layout: no second copy.
    ...(weights ? { weights, adoptWeights: !(weights instanceof Uint8Array) } : {}),
    executionProvider: config.engine.executionProvider,
    threads: config.engine.threads,
    seed: config.seed,
    optimizer: {
      learningRate: config.optimizer.learningRate, weightDecay: config.optimizer.weightDecay, maxGradNorm: config.optimizer.maxGradNorm,
      beta1: config.optimizer.beta1, beta2: config.optimizer.beta2, eps: config.optimizer.eps, schedule: config.optimizer.schedule,
      warmupSteps: config.optimizer.warmupSteps, microBatchTokens: config.optimizer.microBatchTokens,
      totalSteps: Math.max(1, config.stages.reduce((a, s) => a + s.steps, 0)),
    },
  });
  if (resume) {
    const o = resume.optimizer;
    if (o instanceof Uint8Array) engine.loadOptimizerState(o);
    else engine.loadOptimizerStateTensors(o.step, o.tensors);
  }
  return { engine, resume, ...(resume ? { resumeReadSeconds } : {}) };
}
