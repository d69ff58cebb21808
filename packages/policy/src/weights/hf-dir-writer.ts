import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { HF_FILES, shardName } from './hf-files.js';
import type { Json } from './hf-files.js';
import { tensorBytes, writeSafetensorsFile } from './safetensors-writer.js';
import type { TensorSource, WriteDtype } from './safetensors-writer.js';

export interface SafetensorsShardsOptions {
  dtype?: WriteDtype;
  /** A shard is closed before it would exceed this many bytes (default 2 GiB); a larger tensor gets its own shard. */
  maxShardBytes?: number;
  metadata?: Record<string, string>;
  /** Shard file names: `model` gives model.safetensors or model-0000i-of-0000n.safetensors (+ index). */
  prefix?: string;
}

export const DEFAULT_MAX_SHARD_BYTES = 2 * 2 ** 30;

/** Splits tensors, in order, into shards of at most `max` bytes each. */
export function planShards(tensors: readonly TensorSource[], dtype: WriteDtype, max: number): TensorSource[][] {
  const shards: TensorSource[][] = [];
  let cur: TensorSource[] = [];
  let bytes = 0;
  for (const t of tensors) {
    const n = tensorBytes(t, dtype);
    if (cur.length > 0 && bytes + n > max) {
      shards.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(t);
    bytes += n;
  }
  if (cur.length > 0 || shards.length === 0) shards.push(cur);
  return shards;
}

/**
 * Writes tensors as sharded safetensors into `dir` (which must exist), tensor by tensor: one
 * `<prefix>.safetensors`, or `<prefix>-0000i-of-0000n.safetensors` plus `<prefix>.safetensors.index.json`
 * (the Hugging Face layout). Returns the file names written.
 */
export function writeSafetensorsShards(dir: string, tensors: readonly TensorSource[], o: SafetensorsShardsOptions = {}): string[] {
  const dtype = o.dtype ?? 'F32';
  const prefix = o.prefix ?? 'model';
  const shards = planShards(tensors, dtype, o.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES);
  const meta = { format: 'pt', ...o.metadata };
  if (shards.length === 1) {
    const name = `${prefix}.safetensors`;
    writeSafetensorsFile(join(dir, name), shards[0] ?? [], dtype, meta);
    return [name];
  }
  const names = shards.map((_, i) => shardName(i, shards.length).replace(/^model/, prefix));
  const weightMap: Record<string, string> = {};
  let total = 0;
  shards.forEach((s, i) => {
    const name = names[i] as string;
    writeSafetensorsFile(join(dir, name), s, dtype, meta);
    for (const t of s) {
      weightMap[t.name] = name;
      total += tensorBytes(t, dtype);
    }
  });
  const index = `${prefix}.safetensors.index.json`;
  writeSynced(join(dir, index), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n');
  return [...names, index];
}

export function writeSynced(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function fsyncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Builds a folder atomically: `fill` writes into a temporary sibling, every file is fsynced by
 * the writers, then the folder is renamed into place. A crash leaves either the old folder or
 * the complete new one, plus at worst a `.partial-*` sibling.
 */
export function writeFolderAtomically(dir: string, fill: (tmp: string) => void, replace = false): void {
  if (existsSync(dir) && !replace) throw new AceReasonError(ErrorCodes.CONFLICT, `${dir} already exists`, { field: 'dir' });
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.partial-${process.pid}-${Date.now()}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    fill(tmp);
    fsyncDir(tmp);
    if (existsSync(dir)) {
      const old = join(parent, `.${basename(dir)}.old-${process.pid}-${Date.now()}`);
      renameSync(dir, old);
      renameSync(tmp, dir);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, dir);
    fsyncDir(parent);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export interface HfModelDirWrite {
  /** config.json contents (see hfConfigFromModel). */
  config: Json;
  /** The model's tensors, HF names. */
  tensors: readonly TensorSource[];
  dtype?: WriteDtype;
  maxShardBytes?: number;
  /** Other files by name (tokenizer.json, tokenizer_config.json, generation_config.json, ...). */
  files?: Record<string, string | Uint8Array>;
  metadata?: Record<string, string>;
  /** Replace an existing folder (atomically) instead of refusing. */
  replace?: boolean;
}

/**
 * Writes a Hugging Face model directory that transformers and vLLM load as it is: config.json,
 * sharded safetensors (+ index) written tensor by tensor, and the given asset files; atomically.
 */
export function writeHfModelDir(dir: string, w: HfModelDirWrite): void {
  writeFolderAtomically(dir, (tmp) => {
    const config = { ...w.config, torch_dtype: (w.dtype ?? 'F32') === 'BF16' ? 'bfloat16' : 'float32' };
    writeSafetensorsShards(tmp, w.tensors, { ...(w.dtype === undefined ? {} : { dtype: w.dtype }), ...(w.maxShardBytes === undefined ? {} : { maxShardBytes: w.maxShardBytes }), ...(w.metadata === undefined ? {} : { metadata: w.metadata }) });
    writeSynced(join(tmp, HF_FILES.config), JSON.stringify(config, null, 2) + '\n');
    for (const [name, data] of Object.entries(w.files ?? {})) {
      if (name !== basename(name) || name === HF_FILES.config) throw new AceReasonError(ErrorCodes.INVALID, `files: ${name} is not a plain file name`, { field: `files.${name}` });
      writeSynced(join(tmp, name), data);
    }
  }, w.replace === true);
}
