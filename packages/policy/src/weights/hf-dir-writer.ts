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

/** What a sharded write puts in a folder: the shard files with their tensors, and the index (none for one shard). */
export interface ShardLayout {
  dtype: WriteDtype;
  metadata: Record<string, string>;
  shards: { name: string; tensors: TensorSource[] }[];
  index?: { name: string; text: string };
}

/**
 * The Hugging Face layout of tensors written as safetensors: one `<prefix>.safetensors`, or
 * `<prefix>-0000i-of-0000n.safetensors` plus `<prefix>.safetensors.index.json`.
 */
export function shardLayout(tensors: readonly TensorSource[], o: SafetensorsShardsOptions = {}): ShardLayout {
  const dtype = o.dtype ?? 'F32';
  const prefix = o.prefix ?? 'model';
  const plan = planShards(tensors, dtype, o.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES);
  const metadata = { format: 'pt', ...o.metadata };
  if (plan.length === 1) return { dtype, metadata, shards: [{ name: `${prefix}.safetensors`, tensors: plan[0] ?? [] }] };
  const shards = plan.map((s, i) => ({ name: shardName(i, plan.length).replace(/^model/, prefix), tensors: s }));
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (const s of shards) {
    for (const t of s.tensors) {
      weightMap[t.name] = s.name;
      total += tensorBytes(t, dtype);
    }
  }
  return { dtype, metadata, shards, index: { name: `${prefix}.safetensors.index.json`, text: JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n' } };
}

/** The file names of a layout, shards then index. */
export const layoutFiles = (l: ShardLayout): string[] => [...l.shards.map((s) => s.name), ...(l.index ? [l.index.name] : [])];

/**
 * Writes tensors as sharded safetensors into `dir` (which must exist), tensor by tensor, in the
 * layout of `shardLayout`. Returns the file names written.
 */
export function writeSafetensorsShards(dir: string, tensors: readonly TensorSource[], o: SafetensorsShardsOptions = {}): string[] {
  const l = shardLayout(tensors, o);
  for (const s of l.shards) writeSafetensorsFile(join(dir, s.name), s.tensors, l.dtype, l.metadata);
  if (l.index) writeSynced(join(dir, l.index.name), l.index.text);
  return layoutFiles(l);
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

/** The hidden sibling a folder is built in (`partial`) or moved aside to while it is replaced (`old`). */
export const siblingOf = (dir: string, kind: 'partial' | 'old'): string => join(dirname(dir), `.${basename(dir)}.${kind}-${process.pid}-${Date.now()}`);

/**
 * Builds a folder atomically: `fill` writes into a temporary sibling, every file is fsynced by
 * the writers, then the folder is renamed into place. A crash leaves either the old folder or
 * the complete new one, plus at worst a `.partial-*` sibling.
 */
export function writeFolderAtomically(dir: string, fill: (tmp: string) => void, replace = false): void {
  if (existsSync(dir) && !replace) throw new AceReasonError(ErrorCodes.CONFLICT, `${dir} already exists`, { field: 'dir' });
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = siblingOf(dir, 'partial');
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    fill(tmp);
    fsyncDir(tmp);
    if (existsSync(dir)) {
      const old = siblingOf(dir, 'old');
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
