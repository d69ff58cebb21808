import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AceReasonError, ErrorCodes, ValidationError } from '@acereason/protocol';

/** File names of a Hugging Face model directory. */
export const HF_FILES = {
  config: 'config.json',
  weights: 'model.safetensors',
  index: 'model.safetensors.index.json',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  generationConfig: 'generation_config.json',
  specialTokensMap: 'special_tokens_map.json',
  chatTemplate: 'chat_template.jinja',
} as const;

/** Files that describe the model besides its weights: copied into every checkpoint. */
export const HF_ASSET_FILES = [HF_FILES.tokenizer, HF_FILES.tokenizerConfig, HF_FILES.generationConfig, HF_FILES.specialTokensMap, HF_FILES.chatTemplate] as const;

export type Json = Record<string, unknown>;

export const shardName = (i: number, n: number): string => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;

/** Reads a JSON object file of a model directory; errors name the file (and the directory). */
export function readJsonFile(dir: string, name: string, required: true): Json;
export function readJsonFile(dir: string, name: string, required: false): Json | undefined;
export function readJsonFile(dir: string, name: string, required: boolean): Json | undefined {
  const path = join(dir, name);
  if (!existsSync(path)) {
    if (required) throw missingFile(dir, name);
    return undefined;
  }
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ValidationError(name, `not valid JSON in ${dir} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError(name, 'must be a JSON object');
  return v as Json;
}

/** A file the model directory must have is absent (code NOT_FOUND, field = the file name). */
export function missingFile(dir: string, name: string, why = ''): AceReasonError {
  return new AceReasonError(ErrorCodes.NOT_FOUND, `${name}: missing in the model directory ${dir}${why}`, { field: name });
}

export function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
