/**
 * Which run a command talks to, and as whom: flags first, then the state file of `acereason up`.
 * Operator commands connect as the `operator` role: with --creds/--user/--tls-* when given, else
 * with the credentials and client certificate of the cluster's cert dir. A learner that maps
 * bearer tokens to roles takes the operator's with --grpc-token (or ACEREASON_GRPC_TOKEN).
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
  /** Bearer token sent on every LearnerControl call (`--grpc-token`, else ACEREASON_GRPC_TOKEN). */
  grpcToken?: string;
}

/** The environment variable an operator's gRPC token may come from instead of the flag (keeps it out of shell history and `ps`). */
export const GRPC_TOKEN_ENV = 'ACEREASON_GRPC_TOKEN';

export const TARGET_FLAGS = {
  nats: { type: 'string' }, run: { type: 'string' }, learner: { type: 'string' }, state: { type: 'string' }, 'grpc-token': { type: 'string' }, ...securityFlags,
} as const;

/** Operator commands default to the cluster state's cert dir; these flags override it. */
export const OPERATOR_SECURITY_USAGE = '--creds FILE | --user U --password P, --tls-ca FILE, --tls-cert FILE --tls-key FILE, --grpc-token TOKEN (or $ACEREASON_GRPC_TOKEN)';

type TargetFlagValues = { nats?: string | undefined; run?: string | undefined; learner?: string | undefined; state?: string | undefined; 'grpc-token'?: string | undefined } & SecurityFlagValues;

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

export function resolveTarget(v: TargetFlagValues, need: readonly (keyof Omit<RunTarget, 'nats' | 'learnerTls' | 'grpcToken'>)[]): RunTarget {
  const file = findStateFile(v.state);
  const s = file ? readClusterState(file) : undefined;
  const t: RunTarget = {
    natsUrl: v.nats ?? s?.natsUrl ?? '', runId: v.run ?? s?.runId ?? '', learnerAddress: v.learner ?? s?.learnerAddress ?? '',
    // The state's credentials belong to the state's NATS: not to another server named by --nats.
    ...operatorSecurity(v, v.nats === undefined || v.nats === s?.natsUrl ? s : undefined),
  };
  // An empty variable counts as unset; an empty flag is a mistake.
  const token = v['grpc-token'] ?? (process.env[GRPC_TOKEN_ENV] || undefined);
  if (token !== undefined) {
    if (token.length === 0) throw new UsageError('--grpc-token is empty', `Pass the operator's token (grpc-tokens.json of \`acereason certs\`), or set ${GRPC_TOKEN_ENV}.`);
    t.grpcToken = token;
  }
  const flag = { natsUrl: '--nats URL', runId: '--run ID', learnerAddress: '--learner HOST:PORT' } as const;
  const missing = need.filter((k) => t[k] === '');
  if (missing.length) {
    throw new UsageError(`no cluster state here and ${missing.map((k) => flag[k]).join(', ')} not given`, 'Start a cluster with `acereason up --config run.yaml`, or pass the missing flags.');
  }
  return t;
}

export type ControlClient = TypedClient<typeof LearnerControlDefinition>;

export function controlClient(target: Pick<RunTarget, 'learnerAddress' | 'learnerTls' | 'grpcToken'>, timeoutMs = 10_000): ControlClient {
  return createGrpcClient(LearnerControlDefinition, { address: target.learnerAddress, timeoutMs, ...(target.learnerTls ? { tls: target.learnerTls } : {}), ...(target.grpcToken !== undefined ? { token: target.grpcToken } : {}) });
}
