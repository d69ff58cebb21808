import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The Python harness shipped with the package (harness/harness.py next to dist/). */
export function harnessSource(): string {
  cached ??= readFileSync(new URL('../harness/harness.py', import.meta.url), 'utf8');
  return cached;
}
