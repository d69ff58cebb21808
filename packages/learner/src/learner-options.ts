/** What a Learner is built from, and the counters it owns itself. */
import type { RunSpec } from '@acereason/protocol';
import type { GrpcRoleMap, Logger, NatsConnection, TlsFiles, Topology } from '@acereason/transport';
import type { ChatTemplate, PolicyEngine, Tokenizer } from '@acereason/policy';
import type { RunConfig } from './config/run-config.js';
import type { Dataset } from './data/dataset.js';
import type { Checkpoint, LearnerState } from './checkpoint/checkpoint.js';

export interface LearnerOptions {
  config: RunConfig;
  nc: NatsConnection;
  topology: Topology;
  engine: PolicyEngine;
  tokenizer: Tokenizer;
  /** The model's chat template, for datasets prompted in chat mode. */
  chatTemplate?: ChatTemplate;
  /** Tokenizer description for workers joining the run. */
  tokenizerSpec: RunSpec['tokenizer'];
  /** Files workers need (tokenizer.json ...), uploaded to the assets object store at start. */
  assetFiles?: Record<string, Uint8Array>;
  datasets: Record<string, Dataset>;
  logger: Logger;
  /** Resume from this checkpoint (weights and optimizer state already loaded into the engine). */
  resume?: Checkpoint;
  /** Stop after this many steps in this process (tests and benchmarks). */
  maxStepsThisRun?: number;
  /** TLS of the gRPC server (with `ca`: client certificates required). Default: plaintext. */
  grpcTls?: TlsFiles;
  /** Who may call what over gRPC (client certificates and tokens to roles). Default: no authorization. */
  grpcRoles?: GrpcRoleMap;
}

/** What the learner itself counts (the rest of LearnerState belongs to its parts). */
export type Progress = Pick<LearnerState, 'runId' | 'step' | 'consumedGroups' | 'rejectedGroups' | 'createdAtMs'>;

/** The counters at start: the resumed checkpoint's, or a new run's. */
export function initialProgress(config: RunConfig, s?: LearnerState): Progress {
  return s
    ? { runId: s.runId, step: s.step, consumedGroups: s.consumedGroups, rejectedGroups: s.rejectedGroups, createdAtMs: s.createdAtMs }
    : { runId: config.runId, step: 0, consumedGroups: 0, rejectedGroups: 0, createdAtMs: Date.now() };
}
