/**
 * `credentials.json` as written by `acereason certs`: a user and password per role. Services read
 * their own entry (`--creds FILE`).
 */
import { readFileSync } from 'node:fs';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { isRole, type Role } from './permissions.js';

export interface RoleCredentials {
  user: string;
  password: string;
}

export type CredentialsFile = Partial<Record<Role, RoleCredentials>>;

export function parseCredentials(text: string, source = 'credentials'): CredentialsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AceReasonError(ErrorCodes.INVALID, `${source}: not JSON`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null) throw new AceReasonError(ErrorCodes.INVALID, `${source}: expected an object of roles`);
  const out: CredentialsFile = {};
  for (const [role, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!isRole(role)) continue;
    const c = v as Partial<RoleCredentials> | null;
    if (typeof c?.user !== 'string' || typeof c.password !== 'string') throw new AceReasonError(ErrorCodes.INVALID, `${source}: ${role}: expected {"user": string, "password": string}`);
    out[role] = { user: c.user, password: c.password };
  }
  return out;
}

/** The entry of `role` in a credentials file. */
export function readRoleCredentials(path: string, role: Role): RoleCredentials {
  const creds = parseCredentials(readFileSync(path, 'utf8'), path)[role];
  if (!creds) throw new AceReasonError(ErrorCodes.INVALID, `${path}: no credentials for role "${role}"`);
  return creds;
}
