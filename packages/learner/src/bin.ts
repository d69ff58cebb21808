#!/usr/bin/env node
import { learnerMain } from './main.js';

learnerMain(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`learner: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
