/**
 * Our side of a `bench long --rounds` row in its own process (at 28 layers ours peaks ~12 GB and
 * PyTorch ~15 GB: both cannot be resident at once, and each round's peak RSS is its own).
 * argv[2]: JSON { model: ResolvedModelConfig, modelDir?: string, tokens, steps, threads }.
 * Prints one JSON line: the OursRow.
 */
import type { ResolvedModelConfig } from '../model/config.js';
import { loadHfModelDir } from '../weights/hf-model-dir.js';
import { measureOursRow } from './long-ours.js';

export interface LongChildArgs {
  model: ResolvedModelConfig;
  /** A Hugging Face directory whose weights to train (only when `model` is its full depth). */
  modelDir?: string;
  tokens: number;
  steps: number;
  threads: number;
}

const a = JSON.parse(process.argv[2] ?? '{}') as LongChildArgs;
const weights = a.modelDir !== undefined ? loadHfModelDir(a.modelDir).weights : undefined;
const row = await measureOursRow({ model: a.model, ...(weights ? { weights } : {}), tokens: a.tokens, steps: a.steps, threads: a.threads });
process.stdout.write(JSON.stringify(row) + '\n');
