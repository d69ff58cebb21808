import { spawnSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import type { Measurement } from './policy-side.js';

/** The PyTorch reference script shipped with the package (bench/torch_ref.py). */
export const TORCH_REF_SCRIPT = fileURLToPath(new URL('../../bench/torch_ref.py', import.meta.url));

/** Debian's PyTorch lives in Debian's interpreter, which a user-level python3 may shadow. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export function hasTorch(): boolean {
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

export interface TorchHello { torch: string; threads: number; blas: string }

/**
 * The reference as a long-lived process (model loaded once, warm), answering one JSON line per
 * request, so the benchmark can alternate it with our engine round by round.
 */
export class TorchRef implements AsyncDisposable {
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, Readable>, readonly hello: TorchHello) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /**
   * Starts the reference on a prepared directory (config.json, weights.safetensors) with
   * `threads` threads in every pool the process may use: PyTorch's OpenMP pool and the pthread
   * OpenBLAS pool it calls into are separate, and left at their defaults both size themselves to
   * the machine, so a 2-thread run had 4 busy threads on 2 cores. Above one thread the OpenMP
   * workers sleep when idle instead of spinning, so they do not take the cores from OpenBLAS's.
   */
  static async start(dir: string, threads: number): Promise<TorchRef> {
    const n = String(threads);
    const env = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n, ...(threads > 1 ? { OMP_WAIT_POLICY: 'PASSIVE' } : {}) };
    const child = spawn(PYTHON, [TORCH_REF_SCRIPT, dir], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const ref = new TorchRef(child, { torch: '', threads: 0, blas: '' });
    child.stderr.on('data', (d: Buffer) => (ref.stderr = (ref.stderr + d.toString()).slice(-4000)));
    const hello = (await ref.next()) as unknown as TorchHello;
    Object.assign(ref.hello, { torch: hello.torch, threads: hello.threads, blas: hello.blas });
    return ref;
  }

  private async next(): Promise<Record<string, unknown>> {
    const r = await this.lines.next();
    if (r.done === true) throw new AceReasonError(ErrorCodes.INTERNAL, `torch_ref.py exited: ${this.stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  }

  /** Sends one request and waits for its answer. */
  request(op: 'parity' | 'warmup'): Promise<Record<string, unknown>> {
    this.child.stdin.write(JSON.stringify({ op }) + '\n');
    return this.next();
  }

  /** One measurement of one figure (the same names and units as our side). */
  async measure(figure: string): Promise<Measurement> {
    this.child.stdin.write(JSON.stringify({ op: 'measure', figure }) + '\n');
    const r = await this.next();
    const { work, wall_s: wallS, cpu_s: cpuS } = r;
    if (typeof work !== 'number' || typeof wallS !== 'number' || typeof cpuS !== 'number') throw new AceReasonError(ErrorCodes.INTERNAL, `torch_ref.py: no work/wall_s/cpu_s for ${figure}: ${JSON.stringify(r)}`);
    return { work, wallS, cpuS };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end(JSON.stringify({ op: 'quit' }) + '\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
