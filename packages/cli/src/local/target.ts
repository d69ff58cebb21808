/** Which run a command talks to: flags first, then the state file of `acereason up`. */
import { LearnerControlDefinition } from '@acereason/protocol';
import { createGrpcClient, type TypedClient } from '@acereason/transport';
import { UsageError } from '../command.js';
import { findStateFile, readClusterState } from './cluster-state.js';

export interface RunTarget {
  natsUrl: string;
  runId: string;
  learnerAddress: string;
}

export const TARGET_FLAGS = {
  nats: { type: 'string' }, run: { type: 'string' }, learner: { type: 'string' }, state: { type: 'string' },
} as const;

export function resolveTarget(v: { nats?: string | undefined; run?: string | undefined; learner?: string | undefined; state?: string | undefined }, need: readonly (keyof RunTarget)[]): RunTarget {
  const file = findStateFile(v.state);
  const s = file ? readClusterState(file) : undefined;
  const t: RunTarget = { natsUrl: v.nats ?? s?.natsUrl ?? '', runId: v.run ?? s?.runId ?? '', learnerAddress: v.learner ?? s?.learnerAddress ?? '' };
  const flag = { natsUrl: '--nats URL', runId: '--run ID', learnerAddress: '--learner HOST:PORT' } as const;
  const missing = need.filter((k) => t[k] === '');
  if (missing.length) {
    throw new UsageError(`no cluster state here and ${missing.map((k) => flag[k]).join(', ')} not given`, 'Start a cluster with `acereason up --config run.yaml`, or pass the missing flags.');
  }
  return t;
}

export type ControlClient = TypedClient<typeof LearnerControlDefinition>;

export function controlClient(address: string, timeoutMs = 10_000): ControlClient {
  return createGrpcClient(LearnerControlDefinition, { address, timeoutMs });
}
