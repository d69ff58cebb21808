/**
 * How `acereason up` secures its cluster. By default it keeps development certificates in
 * `<out_dir>/certs` (made on first use), runs nats-server with TLS and a user per role (a cluster's
 * routes over TLS with the route certificate), the
 * learner's gRPC over mutual TLS, and every service as its own role. With an external NATS it passes
 * on only the security flags the user gave; with --insecure nothing (no auth, no TLS).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { securityFlags, type SecurityFlagValues } from '@acereason/transport';
import { UsageError } from '../command.js';
import type { ClusterState } from './cluster-state.js';
import { ensureDevCertificates } from './dev-certs.js';

export type ServiceRole = 'learner' | 'actor' | 'verifier';

export interface ClusterSecurity {
  /** The tls and authorization blocks of the nats-server that `up` starts. */
  natsExtraConfig?: string;
  /** The route TLS inside the cluster block of each node of `--nats-cluster N`. */
  natsRouteConfig?: string;
  /** Security flags of each service. */
  args: Record<ServiceRole, string[]>;
  /** What operator commands read back from the state file. */
  state: Pick<ClusterState, 'certDir' | 'operatorSecurity' | 'learnerTls'>;
}

const NONE: ClusterSecurity = { args: { learner: [], actor: [], verifier: [] }, state: {} };

function flagArgs(v: SecurityFlagValues): string[] {
  return Object.entries(v).flatMap(([k, x]) => (typeof x === 'string' ? [`--${k}`, resolveFile(k, x)] : []));
}

/** File flags are made absolute: the services may not run from this directory. */
function resolveFile(flag: string, value: string): string {
  return flag === 'user' || flag === 'password' ? value : resolve(value);
}

export function planClusterSecurity(o: { insecure: boolean; externalNats: boolean; outDir: string; flags: SecurityFlagValues }): ClusterSecurity {
  const given: SecurityFlagValues = {};
  for (const k of Object.keys(securityFlags) as (keyof SecurityFlagValues)[]) if (o.flags[k] !== undefined) given[k] = o.flags[k];
  const anyGiven = Object.keys(given).length > 0;
  if (o.insecure) {
    if (anyGiven) throw new UsageError('--insecure takes no --creds, --user, --password or --tls-* flags', 'Drop --insecure to use them.');
    return NONE;
  }
  if (o.externalNats) {
    if (!anyGiven) return NONE;
    const args = flagArgs(given);
    const operator: SecurityFlagValues = {};
    if (given.creds !== undefined) operator.creds = resolve(given.creds);
    if (given['tls-ca'] !== undefined) operator['tls-ca'] = resolve(given['tls-ca']);
    return { args: { learner: args, actor: args, verifier: args }, state: { operatorSecurity: operator, learnerTls: false } };
  }
  if (anyGiven) throw new UsageError('--creds, --user, --password and --tls-* go with --nats URL (an external NATS)', 'Without --nats, `up` makes and uses its own certificates in <out_dir>/certs.');
  const c = ensureDevCertificates(join(resolve(o.outDir), 'certs'));
  const common = ['--creds', c.credentials, '--tls-ca', c.ca];
  return {
    natsExtraConfig: readFileSync(c.natsConfig, 'utf8'),
    natsRouteConfig: readFileSync(c.natsRouteConfig, 'utf8'),
    args: {
      learner: [...common, '--grpc-tls-cert', c.server.cert, '--grpc-tls-key', c.server.key, '--grpc-client-auth'],
      actor: [...common, '--tls-cert', c.clients.actor.cert, '--tls-key', c.clients.actor.key],
      verifier: common,
    },
    state: {
      certDir: c.dir,
      operatorSecurity: { creds: c.credentials, 'tls-ca': c.ca, 'tls-cert': c.clients.operator.cert, 'tls-key': c.clients.operator.key },
      learnerTls: true,
    },
  };
}
