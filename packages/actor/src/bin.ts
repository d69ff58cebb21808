#!/usr/bin/env node
import { actorMain } from './main.js';

actorMain(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`actor: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
