import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '@acereason/protocol';
import { HF_ASSET_FILES, HF_FILES } from './hf-files.js';
import type { Json } from './hf-files.js';

/**
 * The files of a model directory besides config.json and the weights: what a tokenizer, a chat
 * template and the stop tokens are built from. Each is optional here; users of it say what they need.
 */
export interface HfAssets {
  tokenizerJson?: string;
  tokenizerConfig?: Json;
  generationConfig?: Json;
  /** The chat template: tokenizer_config.json's `chat_template` or chat_template.jinja. */
  chatTemplate?: string;
  /** Raw bytes of every asset file present, by file name (copied into checkpoints, shipped to workers). */
  files: Record<string, Uint8Array>;
}

/** The chat template of tokenizer_config.json: a string, or a list of named templates (uses `default`). */
export function chatTemplateOf(tokenizerConfig: Json | undefined, file = HF_FILES.tokenizerConfig): string | undefined {
  const t = tokenizerConfig?.chat_template;
  if (t === undefined || t === null) return undefined;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t as { name?: unknown; template?: unknown }[];
    const d = named.find((x) => x.name === 'default') ?? named[0];
    if (d !== undefined && typeof d.template === 'string') return d.template;
  }
  throw new ValidationError(`${file}:chat_template`, 'must be a string or a list of {name, template}');
}

export function readHfAssets(dir: string): HfAssets {
  const files: Record<string, Uint8Array> = {};
  for (const name of HF_ASSET_FILES) {
    const p = join(dir, name);
    if (existsSync(p)) files[name] = readFileSync(p);
  }
  return assetsFromFiles(files, dir);
}

/** Parses asset files (as read from a directory or received from the object store). */
export function assetsFromFiles(files: Record<string, Uint8Array>, dir = '(assets)'): HfAssets {
  const text = (n: string): string | undefined => (files[n] === undefined ? undefined : Buffer.from(files[n] as Uint8Array).toString('utf8'));
  const json = (n: string): Json | undefined => (files[n] === undefined ? undefined : parseJsonObject(text(n) as string, n, dir));
  const tokenizerConfig = json(HF_FILES.tokenizerConfig);
  const out: HfAssets = { files };
  const tj = text(HF_FILES.tokenizer);
  if (tj !== undefined) out.tokenizerJson = tj;
  if (tokenizerConfig !== undefined) out.tokenizerConfig = tokenizerConfig;
  const gc = json(HF_FILES.generationConfig);
  if (gc !== undefined) out.generationConfig = gc;
  const tpl = text(HF_FILES.chatTemplate) ?? chatTemplateOf(tokenizerConfig);
  if (tpl !== undefined) out.chatTemplate = tpl;
  return out;
}

function parseJsonObject(s: string, name: string, dir: string): Json {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (cause) {
    throw new ValidationError(name, `not valid JSON in ${dir} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError(name, 'must be a JSON object');
  return v as Json;
}
