import { closeSync, existsSync, openSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ValidationError, DecodeError } from '@acereason/protocol';
import type { ResolvedModelConfig } from '../model/config.js';
import { modelConfigFromHf } from '../model/hf-config.js';
import { numel, paramSpecs } from '../model/params.js';
import { allocateFlat } from '../train/flat.js';
import type { NamedTensor } from '../model/params.js';
import { readSafetensorsHeaderAt, readTensorF32 } from './safetensors-file.js';
import type { SafetensorsEntry } from './safetensors-file.js';
import { harmlessExtraTensor } from './hf.js';
import { HF_FILES, isDirectory, missingFile, readJsonFile } from './hf-files.js';
import type { Json } from './hf-files.js';

export interface HfTensorLocation {
  /** Shard file name inside the directory. */
  file: string;
  entry: SafetensorsEntry;
}

/** Everything checked before a single weight is read: config, shards, names, dtypes, shapes. */
export interface HfWeightsPlan {
  dir: string;
  model: ResolvedModelConfig;
  hfConfig: Json;
  /** The model's tensors in paramSpecs order, with where each one lives. */
  tensors: { name: string; shape: number[]; at: HfTensorLocation }[];
  /** Shard files, in order. */
  shards: string[];
  /** Bytes of the tensors once converted to float32. */
  f32Bytes: number;
}

function shardFiles(dir: string): { shards: string[]; byTensor: Map<string, string> | undefined } {
  const index = readJsonFile(dir, HF_FILES.index, false);
  if (index === undefined) {
    if (existsSync(join(dir, HF_FILES.weights))) return { shards: [HF_FILES.weights], byTensor: undefined };
    const other = existsSync(join(dir, 'pytorch_model.bin')) ? ' (only pytorch_model.bin is there: convert it to safetensors)' : '';
    throw missingFile(dir, `${HF_FILES.weights} (or ${HF_FILES.index})`, other);
  }
  const map = index.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new ValidationError(`${HF_FILES.index}:weight_map`, 'must be an object of tensor name -> shard file');
  const byTensor = new Map<string, string>();
  const shards: string[] = [];
  for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== 'string' || file !== basename(file) || !file.endsWith('.safetensors')) throw new ValidationError(`${HF_FILES.index}:weight_map.${name}`, `must name a .safetensors file in the directory, got ${JSON.stringify(file)}`);
    if (!shards.includes(file)) {
      if (!existsSync(join(dir, file))) throw missingFile(dir, file, ` (listed in ${HF_FILES.index} for ${name})`);
      shards.push(file);
    }
    byTensor.set(name, file);
  }
  if (shards.length === 0) throw new ValidationError(`${HF_FILES.index}:weight_map`, 'lists no tensors');
  return { shards: shards.sort(), byTensor };
}

/**
 * Reads config.json and every shard header, and checks the whole checkpoint against the model:
 * every tensor present with its shape and a supported dtype, none the model would not use (apart
 * from an explicit allow-list). No weight data is read, so nothing starts half-loaded.
 */
export function planHfWeights(dir: string, configOverride?: Json): HfWeightsPlan {
  if (!isDirectory(dir)) throw missingFile(dir, '.', ' (not a directory)');
  const hfConfig = configOverride ?? readJsonFile(dir, HF_FILES.config, true);
  const model = modelConfigFromHf(hfConfig, HF_FILES.config);
  const { shards, byTensor } = shardFiles(dir);
  const found = new Map<string, HfTensorLocation>();
  for (const file of shards) {
    for (const entry of readSafetensorsHeaderAt(join(dir, file), file).entries) {
      const prev = found.get(entry.name);
      if (prev !== undefined) throw new DecodeError(`${file}: tensor ${entry.name} is also in ${prev.file}`);
      found.set(entry.name, { file, entry });
    }
  }
  if (byTensor !== undefined) {
    for (const [name, file] of byTensor) {
      const at = found.get(name);
      if (at === undefined || at.file !== file) throw new ValidationError(`${HF_FILES.index}:weight_map.${name}`, `the tensor is not in ${file}`);
    }
  }
  const specs = paramSpecs(model);
  const wanted = new Set(specs.map((s) => s.name));
  for (const [name, at] of found) {
    if (!wanted.has(name) && !harmlessExtraTensor(name, model)) throw new ValidationError(`${at.file}:${name}`, `the model (${String(hfConfig.architectures)}) does not use this tensor; refusing to load a checkpoint it would compute wrongly`);
  }
  const tensors = specs.map((s) => {
    const at = found.get(s.name);
    if (at === undefined) throw new ValidationError(`weights:${s.name}`, `missing from ${shards.join(', ')}${byTensor !== undefined ? ` (the shards ${HF_FILES.index} lists)` : ''}`);
    const shape = at.entry.shape;
    if (shape.length !== s.shape.length || shape.some((d, i) => d !== s.shape[i])) throw new ValidationError(`${at.file}:${s.name}.shape`, `[${shape.join(', ')}] but config.json implies [${s.shape.join(', ')}]`);
    return { name: s.name, shape: [...s.shape], at };
  });
  const f32Bytes = tensors.reduce((n, t) => n + numel(t.shape) * 4, 0);
  return { dir, model, hfConfig, tensors, shards, f32Bytes };
}

/**
 * Streams the planned tensors shard by shard, tensor by tensor, converting to float32 as they are
 * read, straight into the engine's flat parameter layout (`allocateFlat`, paramSpecs order), so
 * `createOnnxEngine({ adoptWeights: true })` needs no second copy.
 */
export function readHfWeights(plan: HfWeightsPlan): NamedTensor[] {
  const out = allocateFlat(plan.tensors);
  for (const file of plan.shards) {
    const mine = plan.tensors.map((t, i) => ({ t, i })).filter(({ t }) => t.at.file === file).sort((a, b) => a.t.at.entry.begin - b.t.at.entry.begin);
    if (mine.length === 0) continue;
    const fd = openSync(join(plan.dir, file), 'r');
    try {
      for (const { t, i } of mine) readTensorF32(fd, t.at.entry, file, (out[i] as NamedTensor).data);
    } finally {
      closeSync(fd);
    }
  }
  return out;
}
