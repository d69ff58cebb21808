import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable, Writable } from 'node:stream';
import type { SandboxCommand } from './sandbox/command.js';

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter((x) => x !== '').map(Number);
  } catch {
    return [];
  }
}

/** Gone, or a zombie: a pid-namespace init only becomes a zombie once every process in it is gone. */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function waitGone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (pids.some((p) => !isGone(p)) && Date.now() < until) await sleep(5);
}

/** The harness could not be driven: it is a fault of the sandbox, never of the program. */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

/**
 * A running harness: one sandbox for one submission. Requests are length-prefixed JSON frames;
 * every request has a deadline after which the whole sandbox is killed from outside.
 */
export class HarnessProcess {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  /** Received bytes not yet parsed; joined only when a whole frame is there (no quadratic copying). */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private stderrTail = '';
  private pending: { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private exited = false;
  private exitInfo = '';
  /** The sandbox's init (or the harness's children when not namespaced), once killed from outside. */
  private killedInner: number[] = [];
  readonly exitedPromise: Promise<void>;

  constructor(cmd: SandboxCommand) {
    this.child = spawn(cmd.file, cmd.args, {
      cwd: cmd.cwd,
      env: cmd.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(cmd.uid === undefined ? {} : { uid: cmd.uid }),
      ...(cmd.gid === undefined ? {} : { gid: cmd.gid }),
    });
    this.exitedPromise = new Promise((resolve) => {
      const done = (info: string): void => {
        if (this.exited) return;
        this.exited = true;
        this.exitInfo = info;
        this.fail(new HarnessError(`sandbox exited (${info})${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`));
        void waitGone(this.killedInner, 5000).then(() => resolve());
      };
      this.child.once('close', (code, signal) => done(signal === null ? `exit code ${code}` : `signal ${signal}`));
      this.child.once('error', (err) => done(`cannot start ${cmd.file}: ${err.message}`));
    });
    this.child.stdin.on('error', () => undefined); // the close handler reports
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-2000);
    });
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) return;
      let head = this.chunks[0] as Buffer;
      if (head.length < 4) head = this.join();
      const n = head.readUInt32BE(0);
      if (this.buffered < 4 + n) return;
      const all = this.join();
      const body = all.subarray(4, 4 + n).toString('utf8');
      const rest = all.subarray(4 + n);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      const p = this.pending;
      this.pending = undefined;
      if (p === undefined) continue;
      clearTimeout(p.timer);
      try {
        p.resolve(JSON.parse(body));
      } catch (e) {
        p.reject(new HarnessError(`bad frame from harness: ${(e as Error).message}`));
      }
    }
  }

  private join(): Buffer {
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [all];
    return all;
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = undefined;
    if (p === undefined) return;
    clearTimeout(p.timer);
    p.reject(err);
  }

  /** Sends one request and waits for its reply; on timeout the sandbox is killed. */
  request(message: object, timeoutMs: number): Promise<unknown> {
    if (this.exited) return Promise.reject(new HarnessError(`sandbox already exited (${this.exitInfo}): ${this.stderrTail.trim()}`));
    if (this.pending !== undefined) return Promise.reject(new HarnessError('request already in flight'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        this.fail(new HarnessError(`harness did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      this.send(message);
    });
  }

  send(message: object): void {
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length, 0);
    this.child.stdin.write(Buffer.concat([head, body]));
  }

  /** Kills the sandbox from outside; its pid namespace takes every process in it down. */
  kill(): void {
    if (this.exited) return;
    const pid = this.child.pid;
    const inner = pid === undefined ? [] : childrenOf(pid);
    if (inner.length === 0) {
      this.child.kill('SIGKILL');
      return;
    }
    // Kill the namespace's init: the kernel takes down everything inside it, and the outer process
    // (bwrap, unshare) reaps it and exits, so 'close' means the sandbox is gone. The outer process
    // is killed too if it lingers.
    this.killedInner = inner;
    for (const p of inner) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    setTimeout(() => {
      if (!this.exited) this.child.kill('SIGKILL');
    }, 500).unref();
  }

  /** Asks the harness to finish and waits for the sandbox to be gone (killing it after graceMs). */
  async close(graceMs = 2000): Promise<void> {
    if (!this.exited) {
      try {
        this.send({ op: 'end' });
        this.child.stdin.end();
      } catch {
        // already gone
      }
      const timer = setTimeout(() => this.kill(), graceMs);
      await this.exitedPromise;
      clearTimeout(timer);
    }
  }
}
