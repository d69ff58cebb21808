/**
 * The state file of a background cluster (`acereason up`): which processes belong to it, where
 * NATS and the learner listen, where the logs are. `<out_dir>/cluster.json` holds it and
 * `.acereason/current` in the directory `up` ran from points at it, so later commands find it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SecurityFlagValues } from '@acereason/transport';
import { UsageError } from '../command.js';

export interface ServiceProcess {
  name: string;
  role: 'nats' | 'learner' | 'actor' | 'verifier';
  pid: number;
  log: string;
  /** Part of the command line, checked before signalling the pid (it may have been reused). */
  marker: string;
}

export interface ClusterState {
  version: 1;
  runId: string;
  configPath: string;
  outDir: string;
  logDir: string;
  natsUrl: string;
  /** True when `up` started nats-server (then `down` stops it). */
  natsManaged: boolean;
  learnerAddress: string;
  /** Where `up` keeps the development certificates it made (absent with --insecure or an external NATS). */
  certDir?: string;
  /** The security flags operator commands use by default, as the `operator` role (absent: no auth). */
  operatorSecurity?: SecurityFlagValues;
  /** True when the learner serves gRPC over TLS and requires client certificates. */
  learnerTls?: boolean;
  metricsPorts: Record<string, number>;
  startedAtMs: number;
  services: ServiceProcess[];
}

export const STATE_DIR = '.acereason';

export function pointerPath(cwd = process.cwd()): string {
  return join(cwd, STATE_DIR, 'current');
}

export function writeClusterState(state: ClusterState, cwd = process.cwd()): string {
  const file = join(state.outDir, 'cluster.json');
  mkdirSync(state.outDir, { recursive: true });
  writeFileSync(file, JSON.stringify(state, null, 2) + '\n');
  mkdirSync(join(cwd, STATE_DIR), { recursive: true });
  writeFileSync(pointerPath(cwd), file + '\n');
  return file;
}

/** The state file named by `--state`, else the one `.acereason/current` points at; undefined when none. */
export function findStateFile(explicit?: string, cwd = process.cwd()): string | undefined {
  if (explicit) return resolve(explicit);
  const pointer = pointerPath(cwd);
  if (!existsSync(pointer)) return undefined;
  const file = readFileSync(pointer, 'utf8').trim();
  return file && existsSync(file) ? file : undefined;
}

export function readClusterState(file: string): ClusterState {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the cluster state ${file}: ${(err as Error).message}`, 'Run `acereason up --config run.yaml` to start a cluster.');
  }
  const s = raw as Partial<ClusterState>;
  if (s.version !== 1 || typeof s.runId !== 'string' || !Array.isArray(s.services)) {
    throw new UsageError(`${file} is not an acereason cluster state file`, 'Remove it and run `acereason up` again.');
  }
  return s as ClusterState;
}

/** The current cluster's state, or a UsageError saying how to start one. */
export function requireClusterState(explicit?: string, cwd = process.cwd()): { file: string; state: ClusterState } {
  const file = findStateFile(explicit, cwd);
  if (!file) throw new UsageError('no cluster is running from this directory (no .acereason/current)', 'Start one with `acereason up --config run.yaml`, or pass --nats URL --run ID --learner HOST:PORT.');
  return { file, state: readClusterState(file) };
}

export function removeClusterState(file: string, cwd = process.cwd()): void {
  rmSync(file, { force: true });
  const pointer = pointerPath(cwd);
  if (existsSync(pointer) && readFileSync(pointer, 'utf8').trim() === file) rmSync(pointer, { force: true });
}
