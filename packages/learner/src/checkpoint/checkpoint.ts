/**
 * Checkpoints: one folder per step that is a Hugging Face model directory (config.json, sharded
 * safetensors + index written tensor by tensor, the model's tokenizer and generation files), plus
 * the optimizer state sharded the same way (optimizer-*.safetensors + index) and the learner's
 * state (step, version, stage, data cursors, tasks in flight) in state.json. Written into a hidden
 * sibling, fsynced and renamed into place, then pointed to by `latest` (also renamed atomically).
 * A crash at any point leaves the previous checkpoint intact. Written with async file I/O in
 * bounded chunks, so the learner keeps serving while it writes (see saveCheckpoint). Read
 * synchronously: a checkpoint is loaded once, before the learner connects or serves anything.
 * Folders of the former layout (model.safetensors + optimizer.bin) still load.
 */
import { readFileSync, readdirSync, openSync, closeSync, existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '@acereason/protocol';
import { fsyncDirAsync, loadHfModelDir, readSafetensorsHeader, readTensorF32, writeFolderAtomicallyAsync, writeSafetensorsShardsAsync, writeSyncedAsync, type AsyncWriteOptions, type NamedTensor, type TensorSource } from '@acereason/policy';
import type { Cursor } from '../data/prompt-sampler.js';

export interface PublishedStep {
  step: number;
  stageIndex: number;
  /** The step the run entered the stage at (with stageIndex, the stage entry; task ids carry it). */
  stageEnteredAt: number;
  /** Prompt index (in the stage's dataset) of each slot. */
  prompts: number[];
  version: number;
  sha256: string;
  /** Retry round per slot (task ids carry it). */
  retries: number[];
  /** Sampling temperature of this step's tasks. */
  temperature: number;
}

export interface LearnerState {
  runId: string;
  /** Steps completed (the next step to run is `step`). */
  step: number;
  version: number;
  weightsSha256: string;
  stageIndex: number;
  stageStep: number;
  /** The current stage's step budget and filtered-out prompts, fixed when the stage started. */
  stagePlan?: { stageIndex: number; steps: number; excluded: number[]; eligible: number };
  /** Current sampling temperature (it moves under a schedule or an entropy target). */
  temperature?: number;
  /** Evaluations run so far (eval task ids carry the round). */
  evalRounds?: number;
  /** The current stage's watched eval metric, for the plateau rule. */
  plateauHistory?: number[];
  cursors: Record<string, Cursor>;
  /** Steps whose tasks were published but not trained yet (async look-ahead). */
  pending: PublishedStep[];
  consumedGroups: number;
  rejectedGroups: number;
  createdAtMs: number;
}

/** Optimizer state as tensors (AdamW moments) and its step count. */
export interface OptimizerTensors {
  step: number;
  tensors: NamedTensor[];
}

export interface Checkpoint {
  dir: string;
  state: LearnerState;
  /** Tensors (flat layout, as loadHfModelDir returns them) or, for the former layout, safetensors bytes. */
  weights: NamedTensor[] | Uint8Array;
  optimizer: OptimizerTensors | Uint8Array;
}

/** What saveCheckpoint writes besides the state: the model's tensors, its optimizer state, config.json and asset files. */
export interface CheckpointContents {
  state: LearnerState;
  /** Tensors as they are written: arrays, or made on demand (one at a time). */
  weights: readonly TensorSource[];
  optimizer: { step: number; tensors: readonly TensorSource[] };
  /** config.json of the checkpoint (hfConfigFromModel of the model, over the source directory's). */
  hfConfig: Record<string, unknown>;
  /** Tokenizer and generation files copied in, by file name. */
  files?: Record<string, Uint8Array>;
  maxShardBytes?: number;
}

const name = (step: number): string => `step-${String(step).padStart(7, '0')}`;

/**
 * Writes the checkpoint without blocking the event loop (gRPC weight fetches, NATS heartbeats and
 * acks, the control API go on between chunks). The state is serialized before the first await, so
 * what changes meanwhile (groups arriving, an operator's request) is not half in it. The tensors
 * are written from the caller's buffers as they are: they must not change until the promise
 * settles (the learner runs no train step meanwhile). A crash or a rejection at any point leaves
 * the previous checkpoint as `latest`.
 */
export async function saveCheckpoint(root: string, c: CheckpointContents, keep: number, io: AsyncWriteOptions = {}): Promise<string> {
  const final = join(root, name(c.state.step));
  const shards = { ...(c.maxShardBytes === undefined ? {} : { maxShardBytes: c.maxShardBytes }), ...io };
  const stateJson = JSON.stringify(c.state, null, 2);
  const configJson = JSON.stringify(c.hfConfig, null, 2) + '\n';
  const files = Object.entries(c.files ?? {});
  await mkdir(root, { recursive: true });
  await writeFolderAtomicallyAsync(final, async (tmp) => {
    await writeSafetensorsShardsAsync(tmp, c.weights, { ...shards, metadata: { acereason_step: String(c.state.step) } });
    await writeSafetensorsShardsAsync(tmp, c.optimizer.tensors, { ...shards, prefix: 'optimizer', metadata: { format: OPTIMIZER_FORMAT, step: String(c.optimizer.step) } });
    await writeSyncedAsync(join(tmp, 'config.json'), configJson);
    for (const [file, data] of files) await writeSyncedAsync(join(tmp, file), data);
    await writeSyncedAsync(join(tmp, 'state.json'), stateJson);
  }, true);
  const latestTmp = join(root, `latest.tmp-${process.pid}`);
  await writeSyncedAsync(latestTmp, name(c.state.step));
  await rename(latestTmp, join(root, 'latest'));
  await fsyncDirAsync(root);
  const entries = await readdir(root);
  const all = entries.filter((n) => /^step-\d+$/.test(n)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await rm(join(root, old), { recursive: true, force: true });
  // What a learner killed mid-write left behind (as big as a checkpoint): one learner writes a
  // run's checkpoints, one at a time, so no other write is in flight now.
  for (const stale of entries.filter((n) => /^\.step-\d+\.(partial|old)-/.test(n))) await rm(join(root, stale), { recursive: true, force: true });
  return final;
}

/** Bytes of the files in a checkpoint folder. */
export function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

const OPTIMIZER_FORMAT = 'acereason-adamw-1';

/** Reads optimizer-*.safetensors (+ index) tensor by tensor with positional reads. */
function loadOptimizerShards(dir: string): OptimizerTensors {
  const index = join(dir, 'optimizer.safetensors.index.json');
  const files = existsSync(index) ? [...new Set(Object.values((JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map))].sort() : ['optimizer.safetensors'];
  const tensors: NamedTensor[] = [];
  let step = 0;
  for (const file of files) {
    const fd = openSync(join(dir, file), 'r');
    try {
      const h = readSafetensorsHeader(fd, file);
      if (h.metadata.format !== OPTIMIZER_FORMAT) throw new ValidationError(`checkpoint:${file}`, `not an optimizer state (format ${String(h.metadata.format)})`);
      step = Number(h.metadata.step ?? 0);
      for (const e of h.entries) tensors.push({ name: e.name, dtype: 'F32', shape: e.shape, data: readTensorF32(fd, e, file) });
    } finally {
      closeSync(fd);
    }
  }
  return { step, tensors };
}

export function loadLatestCheckpoint(root: string): Checkpoint | undefined {
  const pointer = join(root, 'latest');
  if (!existsSync(pointer)) return undefined;
  const dir = join(root, readFileSync(pointer, 'utf8').trim());
  return loadCheckpoint(dir);
}

export function loadCheckpoint(dir: string): Checkpoint {
  let state: LearnerState;
  try {
    state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as LearnerState;
  } catch (err) {
    throw new ValidationError('checkpoint', `cannot read ${join(dir, 'state.json')}: ${(err as Error).message}`);
  }
  state = withStageEntries(state);
  if (existsSync(join(dir, 'optimizer.bin'))) return { dir, state, weights: readFileSync(join(dir, 'model.safetensors')), optimizer: readFileSync(join(dir, 'optimizer.bin')) };
  return { dir, state, weights: loadHfModelDir(dir).weights, optimizer: loadOptimizerShards(dir) };
}

/**
 * A checkpoint written before steps recorded their stage entry: its pending steps are of the
 * checkpoint's current stage (a stage change abandons the steps published ahead), entered
 * `stageStep` steps before `step`. Their tasks in the stream have the former ids, so the resumed
 * learner publishes them once more under the new ones (and drops the former groups as stale).
 */
function withStageEntries(state: LearnerState): LearnerState {
  const enteredAt = state.step - state.stageStep;
  return { ...state, pending: state.pending.map((p) => ({ ...p, stageEnteredAt: p.stageEnteredAt ?? enteredAt })) };
}
