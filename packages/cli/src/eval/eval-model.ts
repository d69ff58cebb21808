/**
 * What `acereason eval` samples from: `--model DIR` (a Hugging Face directory) or `--checkpoint`
 * (a run's step folder, which is a Hugging Face directory with sharded weights; a checkpoints
 * folder with `latest`; an old-layout folder with model.safetensors; or a .safetensors file), and
 * how its prompts are made (the run file's dataset prompt settings, --prompt-template, else the
 * model's chat template with the recipe's instruction, else the recipe's raw templates).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Domain } from '@acereason/protocol';
import type { ChatTemplate, ModelConfig, NamedTensor, Tokenizer } from '@acereason/policy';
import type { DatasetPrompt, RunConfig } from '@acereason/learner';
import { UsageError } from '../command.js';

export interface EvalModel {
  /** What was loaded (shown in the output). */
  source: string;
  model: ModelConfig;
  /** None when only the tokenizer and prompts are wanted (eval --endpoint). */
  weights?: Uint8Array | NamedTensor[];
  tokenizer: Tokenizer;
  chatTemplate?: ChatTemplate;
  stopTokens: number[];
  prompts: Record<Domain, DatasetPrompt>;
}

type Located = { kind: 'dir'; dir: string } | { kind: 'file'; file: string };

/** A checkpoint argument to the folder or file that holds the weights. */
export function locateCheckpoint(path: string, flag = '--checkpoint'): Located {
  if (!existsSync(path)) throw new UsageError(`${flag}: ${path} does not exist`, 'Pass a checkpoint folder (runs/<id>/checkpoints/step-...), a checkpoints folder with `latest`, a Hugging Face model directory or a .safetensors file.');
  if (statSync(path).isFile()) return { kind: 'file', file: path };
  if (existsSync(join(path, 'config.json'))) return { kind: 'dir', dir: path };
  const latest = join(path, 'latest');
  if (existsSync(latest)) return locateCheckpoint(join(path, readFileSync(latest, 'utf8').trim()), flag);
  if (existsSync(join(path, 'model.safetensors'))) return { kind: 'file', file: join(path, 'model.safetensors') };
  throw new UsageError(`${flag}: ${path} has no config.json, model.safetensors or latest`, 'Pass a checkpoint folder (a Hugging Face directory: config.json and safetensors shards), a checkpoints folder with `latest` or a .safetensors file.');
}

export async function loadEvalModel(o: { checkpoint?: string; model?: string; config?: RunConfig; promptTemplate?: string }): Promise<EvalModel> {
  const policy = await import('@acereason/policy');
  const learner = await import('@acereason/learner');
  if (o.checkpoint !== undefined && o.model !== undefined) throw new UsageError('give one of --checkpoint and --model');
  const where: Located | undefined = o.model !== undefined ? locateCheckpoint(o.model, '--model') : o.checkpoint !== undefined ? locateCheckpoint(o.checkpoint) : undefined;
  if (o.model !== undefined && where?.kind !== 'dir') throw new UsageError(`--model: ${o.model} is not a Hugging Face model directory (no config.json)`);
  let model: ModelConfig = o.config ? learner.modelConfigFor(o.config) : policy.DEMO_MODEL;
  let weights: Uint8Array | NamedTensor[] | undefined;
  let tok: { tokenizer: Tokenizer; chatTemplate?: ChatTemplate } | undefined;
  let source = '(no weights)';
  if (where === undefined) {
    // Only the tokenizer and prompts (the run file's, else the demo's).
  } else if (where.kind === 'dir') {
    const hf = wrap(() => policy.loadHfModelDir(where.dir), where.dir);
    model = hf.model;
    weights = hf.weights;
    if (hf.assets.tokenizerJson !== undefined) tok = wrap(() => policy.modelTokenizerFromAssets(hf.assets, where.dir, hf.model.vocabSize), where.dir);
    source = where.dir;
  } else {
    weights = readFileSync(where.file);
    source = where.file;
  }
  // The run file's tokenizer wins (a demo checkpoint has no tokenizer.json: its run file says char).
  if (o.config) tok = learner.tokenizerFor(o.config);
  const tokenizer: Tokenizer = tok?.tokenizer ?? new policy.CharTokenizer(policy.DEMO_ALPHABET);
  const chatTemplate = tok?.chatTemplate;
  const prompts = promptsFor(o, chatTemplate !== undefined, learner.MATH_PROMPT, learner.CODE_PROMPT, policy.RECIPE_INSTRUCTIONS);
  const stopTokens = tokenizer.stopTokenIds !== undefined ? [...tokenizer.stopTokenIds] : tokenizer.eosTokenId === undefined ? [] : [tokenizer.eosTokenId];
  return { source, model, ...(weights ? { weights } : {}), tokenizer, ...(chatTemplate ? { chatTemplate } : {}), stopTokens, prompts };
}

function promptsFor(o: { config?: RunConfig; promptTemplate?: string }, hasChat: boolean, math: string, code: string, instructions: Record<Domain, string>): Record<Domain, DatasetPrompt> {
  if (o.promptTemplate !== undefined) {
    if (!o.promptTemplate.includes('{problem}')) throw new UsageError('--prompt-template must contain {problem}');
    return { math: { kind: 'template', template: o.promptTemplate }, code: { kind: 'template', template: o.promptTemplate } };
  }
  const out: Record<Domain, DatasetPrompt> = hasChat
    ? { math: { kind: 'format', format: { mode: 'chat', instruction: instructions.math } }, code: { kind: 'format', format: { mode: 'chat', instruction: instructions.code } } }
    : { math: { kind: 'template', template: math }, code: { kind: 'template', template: code } };
  // The first dataset of each domain in the run file says how that domain is prompted.
  const seen = new Set<Domain>();
  for (const d of Object.values(o.config?.datasets ?? {})) {
    if (seen.has(d.domain)) continue;
    seen.add(d.domain);
    out[d.domain] = d.prompt;
  }
  return out;
}

function wrap<T>(fn: () => T, dir: string): T {
  try {
    return fn();
  } catch (err) {
    throw new UsageError(`${dir}: ${(err as Error).message}`, 'Check the model directory: config.json, the safetensors shards (and index), tokenizer files.');
  }
}
