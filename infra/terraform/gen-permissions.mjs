#!/usr/bin/env node
// Writes modules/nats/permissions.json: the NATS subject permissions of every role, from
// packages/transport (rolePermissions), which owns them. Run after changing them (needs a build):
//   node infra/terraform/gen-permissions.mjs
// test/src/deploy/terraform.test.ts fails while the file is out of date.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ROLES, rolePermissions } from '@acereason/transport';

const out = fileURLToPath(new URL('./modules/nats/permissions.json', import.meta.url));
const perms = Object.fromEntries(ROLES.map((r) => [r, rolePermissions(r)]));
writeFileSync(out, JSON.stringify(perms, null, 2) + '\n');
