/**
 * Checkpoints: weights (safetensors), optimizer state and the learner's state (step, version,
 * stage, data cursors, tasks in flight) in one folder per step, written to a temporary folder,
 * fsynced and renamed into place, then pointed to by `latest` (also renamed atomically). A crash
 * at any point leaves the previous checkpoint intact.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '@acereason/protocol';
import type { Cursor } from '../data/prompt-sampler.js';

export interface PublishedStep {
  step: number;
  stageIndex: number;
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

export interface Checkpoint {
  dir: string;
  state: LearnerState;
  weights: Uint8Array;
  optimizer: Uint8Array;
}

function writeSynced(path: string, data: Uint8Array | string): void {
  writeFileSync(path, data);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const name = (step: number): string => `step-${String(step).padStart(7, '0')}`;

export function saveCheckpoint(root: string, c: Omit<Checkpoint, 'dir'>, keep: number): string {
  mkdirSync(root, { recursive: true });
  const final = join(root, name(c.state.step));
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeSynced(join(tmp, 'model.safetensors'), c.weights);
  writeSynced(join(tmp, 'optimizer.bin'), c.optimizer);
  writeSynced(join(tmp, 'state.json'), JSON.stringify(c.state, null, 2));
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  const latestTmp = join(root, `latest.tmp-${process.pid}`);
  writeSynced(latestTmp, name(c.state.step));
  renameSync(latestTmp, join(root, 'latest'));
  const all = readdirSync(root).filter((n) => /^step-\d+$/.test(n)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(join(root, old), { recursive: true, force: true });
  return final;
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
  return { dir, state, weights: readFileSync(join(dir, 'model.safetensors')), optimizer: readFileSync(join(dir, 'optimizer.bin')) };
}
