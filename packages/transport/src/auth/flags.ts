/**
 * The security flags every service takes, and what they resolve to: NATS credentials and TLS for
 * this role, and the TLS files of its gRPC side.
 *
 *   --creds FILE        credentials.json from `acereason certs` (this role's entry)
 *   --user U --password P   explicit NATS credentials (override --creds)
 *   --tls-ca FILE       the CA that signed the servers (NATS and the learner's gRPC)
 *   --tls-cert/--tls-key   this service's client certificate (NATS; the actors' gRPC client)
 */
import { readRoleCredentials } from './credentials.js';
import type { Role } from './permissions.js';
import type { NatsSettings } from '../nats/connection.js';
import type { TlsFiles } from '../grpc/tls.js';
import { CommandLineError } from '../local/command-line.js';

export const SECURITY_USAGE = '[--creds FILE | --user U --password P] [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]';

export const securityFlags = {
  creds: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

export interface SecurityFlagValues {
  creds?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  'tls-ca'?: string | undefined;
  'tls-cert'?: string | undefined;
  'tls-key'?: string | undefined;
}

export interface ResolvedSecurity {
  /** Spread into connectNats settings. */
  nats: Pick<NatsSettings, 'user' | 'pass' | 'tls'>;
  /** Client-side TLS for gRPC, when a CA is given. */
  grpcClientTls: TlsFiles | undefined;
  /** True when this service connects with role credentials (and so may not create the topology). */
  authenticated: boolean;
}

export function resolveSecurity(values: SecurityFlagValues, role: Role): ResolvedSecurity {
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new CommandLineError('--tls-cert and --tls-key go together');
  if (values.password !== undefined && values.user === undefined) throw new CommandLineError('--password needs --user');
  const fromFile = values.creds !== undefined ? readRoleCredentials(values.creds, role) : undefined;
  const user = values.user ?? fromFile?.user;
  const pass = values.password ?? (values.user === undefined ? fromFile?.password : undefined);
  const tls: TlsFiles | undefined = values['tls-ca'] === undefined && values['tls-cert'] === undefined ? undefined : {
    ...(values['tls-ca'] !== undefined ? { ca: values['tls-ca'] } : {}),
    ...(values['tls-cert'] !== undefined ? { cert: values['tls-cert'] } : {}),
    ...(values['tls-key'] !== undefined ? { key: values['tls-key'] } : {}),
  };
  const nats: ResolvedSecurity['nats'] = {};
  if (user !== undefined) nats.user = user;
  if (pass !== undefined) nats.pass = pass;
  if (tls) nats.tls = tls;
  return { nats, grpcClientTls: tls?.ca !== undefined ? tls : undefined, authenticated: user !== undefined || tls?.cert !== undefined };
}
