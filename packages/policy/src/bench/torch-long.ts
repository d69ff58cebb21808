import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PYTHON } from './torch-ref.js';

/** The PyTorch step of `bench long` (bench/torch_long.py). */
export const TORCH_LONG_SCRIPT = fileURLToPath(new URL('../../bench/torch_long.py', import.meta.url));

/** Runs the script once (one fresh process per row, so its peak RSS is the row's) and parses its JSON line. */
export function runTorchLong(args: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [TORCH_LONG_SCRIPT, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`torch_long.py exited with ${String(code)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as Record<string, unknown>);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}
