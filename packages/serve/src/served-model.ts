/**
 * What `acereason serve` serves: a Hugging Face model directory on the embedded engine, with the
 * directory's tokenizer, chat template and stop ids. Loading another directory (a new policy
 * version) builds the new engine state first and swaps atomically, so requests never see a mix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createOnnxEngine, loadHfModelDir, modelTokenizerFromAssets, weightsSha256, type ChatTemplate, type HeldVersion, type OnnxEngine, type Tokenizer } from '@acereason/policy';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';

export interface ServedModel {
  /** The name clients pass as `model`. */
  name: string;
  engine: OnnxEngine;
  tokenizer: Tokenizer;
  chatTemplate: ChatTemplate | undefined;
  stopTokenIds: readonly number[];
  /** The directory the weights came from, and the version they are (from a load request, else 0). */
  dir: string;
  held: HeldVersion;
  maxPositions: number;
}

/** A model directory, or a run's checkpoints folder (its `latest`). */
export function resolveModelDir(dir: string): string {
  if (existsSync(join(dir, 'config.json'))) return dir;
  const latest = join(dir, 'latest');
  if (existsSync(latest)) {
    const d = join(dir, readFileSync(latest, 'utf8').trim());
    if (existsSync(join(d, 'config.json'))) return d;
  }
  throw new AceReasonError(ErrorCodes.NOT_FOUND, `${dir}: no config.json (a Hugging Face model directory, or a checkpoints folder whose latest is one)`, { retryable: false, field: 'dir' });
}

/** `generationDtype`: the precision of the generation graphs (float16 copies of the float32 weights); float32 by default. */
export async function loadServedModel(dir: string, o: { name?: string; threads?: number; version?: number; generationDtype?: 'float32' | 'float16' } = {}): Promise<ServedModel> {
  const resolved = resolveModelDir(dir);
  const m = loadHfModelDir(resolved);
  const t = modelTokenizerFromAssets(m.assets, resolved, m.model.vocabSize);
  const engine = await createOnnxEngine({ model: m.model, weights: m.weights, threads: o.threads ?? 0, generationDtype: o.generationDtype ?? 'float32' });
  return {
    name: o.name ?? basename(resolved),
    engine, tokenizer: t.tokenizer, chatTemplate: t.chatTemplate, stopTokenIds: t.stopTokenIds, dir: resolved,
    held: { version: o.version ?? 0, weightsSha256: engine.weightsSha256() }, maxPositions: m.model.maxPositions,
  };
}

/** Loads a new directory into the running engine (same architecture): the version it holds after. */
export async function reloadWeights(s: ServedModel, dir: string, version: number, expectSha256?: string): Promise<HeldVersion> {
  const resolved = resolveModelDir(dir);
  const m = loadHfModelDir(resolved);
  const sha = weightsSha256(m.weights);
  const held = await s.engine.loadVersion({ version, weightsSha256: expectSha256 ?? sha, tensors: m.weights });
  s.held = held;
  s.dir = resolved;
  return held;
}
