/** Test support: runs the built `acereason` command as a child process and collects its output. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_BIN = fileURLToPath(new URL('./main.js', import.meta.url));

export interface CliRun { code: number; stdout: string; stderr: string }

export async function runCli(args: readonly string[], opts: { cwd?: string; input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const child = execFile(process.execPath, [CLI_BIN, ...args], {
    timeout: opts.timeoutMs ?? 120_000, maxBuffer: 32 * 1024 * 1024,
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}), ...(opts.env !== undefined ? { env: opts.env } : {}),
  });
  child.stdin?.end(opts.input);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  return { code, stdout, stderr };
}

/** Test support: SIGKILLs what a failed test left of a local cluster, so no process outlives it. */
export function killLeftovers(services: readonly { pid: number }[] | undefined): void {
  for (const p of services ?? []) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
