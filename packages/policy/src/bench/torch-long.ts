import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PYTHON } from './torch-ref.js';

/** The PyTorch step of `bench long` (bench/torch_long.py). */
export const TORCH_LONG_SCRIPT = fileURLToPath(new URL('../../bench/torch_long.py', import.meta.url));

/** What bench/torch_long.py prints: per step the wall and CPU seconds, its own 1024^3 matmul before and after each step. */
export interface TorchLongRun {
  torch: string;
  threads: number;
  checkpoint: boolean;
  step_s: number[];
  cpu_s: number[];
  matmul_1024_gflops: number[];
  peak_rss_mb: number;
}

/** Runs the script once (one fresh process per row, so its peak RSS is the row's) and parses its JSON line. */
export function runTorchLong(args: Record<string, unknown>): Promise<TorchLongRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [TORCH_LONG_SCRIPT, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`torch_long.py exited with ${String(code)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as TorchLongRun);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}
