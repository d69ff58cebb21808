#!/usr/bin/env node
// The `acereason` command. This file is committed so that it exists when `npm ci` runs: npm links
// a workspace's bin into node_modules/.bin only if its target exists at install time, and the
// compiled CLI (dist/) appears only after `npm run build`.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('acereason: the CLI is not built yet. Run `npm run build` in the repository (scripts/setup.sh does everything), then try again.\n');
  process.exit(1);
}
await import(main.href);
