/**
 * Which run a command talks to, and as whom: flags first, then the state file of `acereason up`.
 * Operator commands connect as the `operator` role: with --creds/--user/--tls-* when given, else
 * with the credentials and client certificate of the cluster's cert dir.
 */
import { LearnerControlDefinition } from '@acereason/protocol';
import { createGrpcClient, resolveSecurity, securityFlags, type ResolvedSecurity, type SecurityFlagValues, type TlsFiles, type TypedClient } from '@acereason/transport';
import { UsageError } from '../command.js';
import { findStateFile, readClusterState, type ClusterState } from './cluster-state.js';

export interface RunTarget {
  natsUrl: string;
  runId: string;
  learnerAddress: string;
  /** NATS user, password and TLS of the operator role (empty: no auth). */
  nats: ResolvedSecurity['nats'];
  /** TLS (with the operator's client certificate) for LearnerControl; undefined: plaintext. */
  learnerTls: TlsFiles | undefined;
}

export const TARGET_FLAGS = {
  nats: { type: 'string' }, run: { type: 'string' }, learner: { type: 'string' }, state: { type: 'string' }, ...securityFlags,
} as const;

/** Operator commands default to the cluster state's cert dir; these flags override it. */
export const OPERATOR_SECURITY_USAGE = '--creds FILE | --user U --password P, --tls-ca FILE, --tls-cert FILE --tls-key FILE';

type TargetFlagValues = { nats?: string | undefined; run?: string | undefined; learner?: string | undefined; state?: string | undefined } & SecurityFlagValues;

const SECURITY_KEYS = Object.keys(securityFlags) as (keyof SecurityFlagValues)[];

/** The operator's security: the flags when any is given, else what the cluster state recorded. */
export function operatorSecurity(v: SecurityFlagValues, s: ClusterState | undefined): Pick<RunTarget, 'nats' | 'learnerTls'> {
  if (SECURITY_KEYS.some((k) => v[k] !== undefined)) {
    const r = resolveSecurity(v, 'operator');
    return { nats: r.nats, learnerTls: r.grpcClientTls };
  }
  if (!s?.operatorSecurity) return { nats: {}, learnerTls: undefined };
  const r = resolveSecurity(s.operatorSecurity, 'operator');
  return { nats: r.nats, learnerTls: s.learnerTls ? r.grpcClientTls : undefined };
}

export function resolveTarget(v: TargetFlagValues, need: readonly (keyof Omit<RunTarget, 'nats' | 'learnerTls'>)[]): RunTarget {
  const file = findStateFile(v.state);
  const s = file ? readClusterState(file) : undefined;
  const t: RunTarget = {
    natsUrl: v.nats ?? s?.natsUrl ?? '', runId: v.run ?? s?.runId ?? '', learnerAddress: v.learner ?? s?.learnerAddress ?? '',
    // The state's credentials belong to the state's NATS: not to another server named by --nats.
    ...operatorSecurity(v, v.nats === undefined || v.nats === s?.natsUrl ? s : undefined),
  };
  const flag = { natsUrl: '--nats URL', runId: '--run ID', learnerAddress: '--learner HOST:PORT' } as const;
  const missing = need.filter((k) => t[k] === '');
  if (missing.length) {
    throw new UsageError(`no cluster state here and ${missing.map((k) => flag[k]).join(', ')} not given`, 'Start a cluster with `acereason up --config run.yaml`, or pass the missing flags.');
  }
  return t;
}

export type ControlClient = TypedClient<typeof LearnerControlDefinition>;

export function controlClient(address: string, tls: TlsFiles | undefined, timeoutMs = 10_000): ControlClient {
  return createGrpcClient(LearnerControlDefinition, { address, timeoutMs, ...(tls ? { tls } : {}) });
}
