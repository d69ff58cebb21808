/**
 * Child processes (local clusters, tests): output captured (and echoed when ACEREASON_TEST_VERBOSE=1), waiting
 * for a line, signals, and disposal that kills the process group so nothing outlives a test.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildSettings {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * How a process ended, for error messages: `exited with code 1`, `killed by SIGKILL`. A SIGKILL
 * nobody here sent is most often the kernel's out-of-memory killer, and the text says so.
 */
export function describeExit(e: Exit, sentByUs: readonly NodeJS.Signals[] = []): string {
  if (e.signal !== null) return `killed by ${e.signal}${e.signal === 'SIGKILL' && !sentByUs.includes('SIGKILL') ? ' (out of memory?)' : ''}`;
  return `exited with code ${String(e.code)}`;
}

export class ChildHandle implements AsyncDisposable {
  readonly process: ChildProcess;
  readonly exited: Promise<Exit>;
  private buffer = '';
  /** Signals sent through this handle (a SIGKILL sent here is not reported as a possible OOM kill). */
  private readonly sent: NodeJS.Signals[] = [];
  private listeners = new Set<() => void>();

  constructor(readonly settings: ChildSettings) {
    this.process = spawn(settings.command, settings.args, {
      cwd: settings.cwd,
      env: settings.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      this.buffer += text;
      if (this.buffer.length > 4_000_000) this.buffer = this.buffer.slice(-2_000_000);
      if (process.env.ACEREASON_TEST_VERBOSE === '1') process.stderr.write(text.replace(/^/gm, `[${settings.name}] `));
      for (const l of this.listeners) l();
    };
    this.process.stdout?.on('data', onData);
    this.process.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => {
      for (const l of this.listeners) l();
      resolve({ code, signal });
    }));
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get output(): string {
    return this.buffer;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** How the process ended (`exited with code N`, `killed by SIGKILL (out of memory?)`), or `running`. */
  get exitDescription(): string {
    return this.running ? 'running' : describeExit({ code: this.process.exitCode, signal: this.process.signalCode }, this.sent);
  }

  /** Resolves with the first match of `pattern` in the output (past or future). */
  async waitForOutput(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = this.buffer.match(pattern);
        if (m) {
          cleanup();
          resolve(m);
        } else if (!this.running) {
          cleanup();
          reject(new Error(`${this.settings.name} ${this.exitDescription} before printing ${pattern}; output:\n${this.buffer.slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.settings.name} did not print ${pattern} within ${timeoutMs} ms; output:\n${this.buffer.slice(-3000)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Signals the whole process group. */
  signal(sig: NodeJS.Signals): void {
    if (!this.running) return;
    this.sent.push(sig);
    try {
      process.kill(-this.pid, sig);
    } catch {
      this.process.kill(sig);
    }
  }

  async kill(sig: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    this.signal(sig);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop(2000);
  }
}

export function spawnChild(settings: ChildSettings): ChildHandle {
  return new ChildHandle(settings);
}
