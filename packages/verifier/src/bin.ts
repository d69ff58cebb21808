#!/usr/bin/env node
import { verifierMain } from './main.js';

verifierMain(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`verifier: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
