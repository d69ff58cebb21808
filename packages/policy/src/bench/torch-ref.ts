import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The PyTorch reference script shipped with the package (bench/torch_ref.py). */
export const TORCH_REF_SCRIPT = fileURLToPath(new URL('../../bench/torch_ref.py', import.meta.url));

/** Debian's PyTorch lives in Debian's interpreter, which a user-level python3 may shadow. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function hasTorch(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
}
function hasOpenblas(): boolean {
  return spawnSync('dpkg', ['-s', 'libopenblas0-pthread'], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure Debian's PyTorch and the pthread OpenBLAS are installed (apt-get, as root). Without
 * OpenBLAS Debian's PyTorch falls back to a reference BLAS that is far slower, which would make the
 * comparison meaningless. Returns a reason string when PyTorch is not usable.
 */
export function ensureTorch(): string | undefined {
  if (hasTorch() && hasOpenblas()) return undefined;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-torch', 'libopenblas0-pthread'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-torch', 'libopenblas0-pthread'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  }
  if (!hasTorch()) return `skipped: python3-torch could not be installed (apt-get exit ${String(r.status)})`;
  if (!hasOpenblas()) return 'skipped: libopenblas0-pthread could not be installed';
  return undefined;
}

/** Runs the reference script on a prepared directory and parses its JSON line. */
export function runTorchRef(dir: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [TORCH_REF_SCRIPT, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`torch_ref.py exited with ${String(code)}`));
      try {
        const last = out.trim().split('\n').pop() ?? '';
        resolve(JSON.parse(last) as Record<string, unknown>);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}
