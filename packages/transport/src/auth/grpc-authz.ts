/**
 * gRPC authorization by role. A caller's role comes from its client certificate, looked up the way
 * nats-server's `verify_and_map` does (each SAN email, DNS name and URI, then the subject as an RFC
 * 2253 DN), then by its CN; or from a bearer token (`authorization: Bearer <token>`). The method
 * policy (grpc-policy.ts) then decides; a refusal is a PERMISSION error naming role and method,
 * which the server sends as PERMISSION_DENIED.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { ROLES, isRole, type Role } from './permissions.js';
import { LEARNER_GRPC_POLICY, type GrpcMethodPolicy } from './grpc-policy.js';

/** What the server knows of a call before its handler runs. */
export interface GrpcCaller {
  method: string;
  peer: string;
  certificate: PeerCertificate | undefined;
  /** The bearer token of the `authorization` metadata, if any. */
  bearer: string | undefined;
}

export interface GrpcDenial {
  /** The caller's role, or `unauthenticated` when neither certificate nor token maps to one. */
  role: Role | 'unauthenticated';
  method: string;
  peer: string;
  /** The identity that was mapped (certificate subject or `token`), for the log. */
  identity: string;
}

export interface GrpcRoleMap {
  /** Certificate identity (SAN value, RFC 2253 subject or CN) -> role. Default: each role's name is its CN. */
  certificates?: Readonly<Record<string, Role>>;
  /** Bearer token -> role. */
  tokens?: Readonly<Record<string, Role>>;
}

/** Checks a call; returns the caller's role or throws a PERMISSION AceReasonError. */
export type GrpcAuthorizer = (caller: GrpcCaller) => Role;

function values(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The subject as RFC 2253 spells it: most specific attribute first (`CN=actor,OU=actor,O=acereason`). */
export function subjectDn(cert: PeerCertificate): string {
  const parts = Object.entries(cert.subject ?? {}).flatMap(([k, v]) => values(v as string | string[]).map((x) => `${k}=${x}`));
  return parts.reverse().join(',');
}

/** The identities of a certificate in lookup order: SAN email, DNS and URI entries, the DN, the CN. */
export function certificateIdentities(cert: PeerCertificate): string[] {
  const san = (cert.subjectaltname ?? '').split(/,\s*/).filter(Boolean);
  const of = (kind: string): string[] => san.filter((s) => s.startsWith(`${kind}:`)).map((s) => s.slice(kind.length + 1));
  const cn = values(cert.subject?.CN as string | string[] | undefined);
  return [...of('email'), ...of('DNS'), ...of('URI'), subjectDn(cert), ...cn];
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function roleAuthorizer(o: { map?: GrpcRoleMap; policy?: GrpcMethodPolicy; onDenied?: (d: GrpcDenial) => void } = {}): GrpcAuthorizer {
  const certs: Readonly<Record<string, Role>> = o.map?.certificates ?? Object.fromEntries(ROLES.map((r) => [r, r]));
  const tokens = Object.entries(o.map?.tokens ?? {}).map(([t, role]) => ({ hash: digest(t), role }));
  const policy = o.policy ?? LEARNER_GRPC_POLICY;
  const identify = (c: GrpcCaller): { role: Role | undefined; identity: string } => {
    if (c.bearer !== undefined) {
      const h = digest(c.bearer);
      // Every entry is compared, so the time taken says nothing about which token came close.
      let role: Role | undefined;
      for (const t of tokens) if (timingSafeEqual(t.hash, h)) role = t.role;
      return { role, identity: 'token' };
    }
    if (c.certificate && Object.keys(c.certificate).length > 0) {
      const ids = certificateIdentities(c.certificate);
      const hit = ids.find((id) => Object.hasOwn(certs, id));
      return { role: hit === undefined ? undefined : certs[hit], identity: subjectDn(c.certificate) };
    }
    return { role: undefined, identity: 'none' };
  };
  return (c) => {
    const { role, identity } = identify(c);
    if (role !== undefined && (policy[c.method] ?? []).includes(role)) return role;
    const denial: GrpcDenial = { role: role ?? 'unauthenticated', method: c.method, peer: c.peer, identity };
    o.onDenied?.(denial);
    throw new AceReasonError(ErrorCodes.PERMISSION,
      role === undefined ? `permission denied: ${identity === 'none' ? 'no client certificate or token' : `${identity} maps to no role`}, so ${c.method} is refused` : `permission denied: role "${role}" may not call ${c.method}`,
      { retryable: false });
  };
}

/**
 * A role map file (JSON): `{"certificates": {"<identity>": "<role>"}, "tokens": {"<role>": "<token>"}}`.
 * Tokens are listed by role, as `acereason certs` writes them (grpc-tokens.json).
 */
export function readGrpcRoleMap(opts: { rolesFile?: string | undefined; tokensFile?: string | undefined }): GrpcRoleMap {
  const out: { certificates?: Record<string, Role>; tokens?: Record<string, Role> } = {};
  const load = (path: string): Record<string, unknown> => {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new AceReasonError(ErrorCodes.INVALID, `${path}: not readable JSON (${(err as Error).message})`, { cause: err });
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AceReasonError(ErrorCodes.INVALID, `${path}: expected a JSON object`);
    return raw as Record<string, unknown>;
  };
  const roleOf = (path: string, field: string, v: unknown): Role => {
    if (typeof v !== 'string' || !isRole(v)) throw new AceReasonError(ErrorCodes.INVALID, `${path}: ${field}: expected one of ${ROLES.join(', ')}, got ${JSON.stringify(v)}`, { field });
    return v;
  };
  if (opts.rolesFile !== undefined) {
    const raw = load(opts.rolesFile);
    const certs = raw.certificates;
    if (typeof certs !== 'object' || certs === null) throw new AceReasonError(ErrorCodes.INVALID, `${opts.rolesFile}: certificates: expected an object of identity -> role`, { field: 'certificates' });
    out.certificates = Object.fromEntries(Object.entries(certs).map(([id, r]) => [id, roleOf(opts.rolesFile as string, `certificates.${id}`, r)]));
  }
  if (opts.tokensFile !== undefined) {
    const raw = load(opts.tokensFile);
    const tokens: Record<string, Role> = {};
    for (const [role, t] of Object.entries(raw)) {
      const r = roleOf(opts.tokensFile, role, role);
      if (typeof t !== 'string' || t.length < 16) throw new AceReasonError(ErrorCodes.INVALID, `${opts.tokensFile}: ${role}: expected a token string of at least 16 characters`, { field: role });
      tokens[t] = r;
    }
    out.tokens = tokens;
  }
  return out;
}
