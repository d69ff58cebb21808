/**
 * nats-server configuration text for the roles: an `authorization` block (a user and password per
 * role, or users named by their client certificate's subject with `verify_and_map`), a `tls`
 * block, and the security of the routes between the nodes of a cluster.
 */
import { ROLES, rolePermissions, type Role, type SubjectRule } from './permissions.js';

export interface RoleUser {
  role: Role;
  /** The NATS user name (default: the role). */
  user?: string;
  password: string;
}

export interface NatsTlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/** A quoted nats-server string (subjects such as `$JS.API.>` must never be read as variables). */
function q(s: string): string {
  return JSON.stringify(s);
}

function rule(r: SubjectRule): string {
  const list = (xs: string[]): string => `[${xs.map(q).join(', ')}]`;
  return r.deny.length === 0 ? list(r.allow) : `{ allow: ${list(r.allow)}, deny: ${list(r.deny)} }`;
}

function permissionsOf(role: Role): string {
  const p = rolePermissions(role);
  return `{ publish: ${rule(p.publish)}, subscribe: ${rule(p.subscribe)} }`;
}

/** One user and password per role; no user is connected without credentials. */
export function renderAuthorization(users: RoleUser[]): string {
  const lines = users.map((u) => `    { user: ${q(u.user ?? u.role)}, password: ${q(u.password)}, permissions: ${permissionsOf(u.role)} }`);
  return ['authorization {', '  timeout: 2', '  users = [', ...lines, '  ]', '}'].join('\n');
}

/**
 * Users named by the subject of their client certificate (RFC 2253, e.g.
 * `CN=actor,OU=actor,O=acereason`): the certificate is the credential. Needs `tlsBlock(.., {verifyAndMap: true})`.
 */
export function renderCertAuthorization(subjects: Partial<Record<Role, string>>): string {
  const lines = ROLES.filter((r) => subjects[r] !== undefined).map((r) => `    { user: ${q(subjects[r] as string)}, permissions: ${permissionsOf(r)} }`);
  return ['authorization {', '  users = [', ...lines, '  ]', '}'].join('\n');
}

/** The server's TLS: `verify` requires a client certificate; `verifyAndMap` also takes the user from it. */
export function renderTls(files: NatsTlsFiles, opts: { verify?: boolean; verifyAndMap?: boolean } = {}): string {
  const lines = ['tls {', `  ca_file: ${q(files.ca)}`, `  cert_file: ${q(files.cert)}`, `  key_file: ${q(files.key)}`, '  timeout: 2'];
  if (opts.verifyAndMap) lines.push('  verify_and_map: true');
  else if (opts.verify) lines.push('  verify: true');
  lines.push('}');
  return lines.join('\n');
}

/**
 * The inside of a cluster block's security: routes over mutual TLS whose certificate must also carry
 * the route subject (`verify_and_map` against the cluster's one user). `verify` alone would admit
 * any certificate the CA signed, an actor's client certificate included, as a full cluster member.
 */
export function renderRouteSecurity(files: NatsTlsFiles, subject: string): string {
  return [
    'tls {', `  ca_file: ${q(files.ca)}`, `  cert_file: ${q(files.cert)}`, `  key_file: ${q(files.key)}`, '  verify_and_map: true', '  timeout: 2', '}',
    'authorization {', `  user: ${q(subject)}`, '  timeout: 2', '}',
  ].join('\n');
}
