import { parentPort, workerData } from 'node:worker_threads';
import { loadSymbolicBackend } from './compare/symbolic.js';
import type { MathVerdict } from './types.js';
import { compareNormalized } from './verify.js';
import { verdict } from './types.js';

/** Main thread -> worker: compare one normalised pair. */
export interface WorkerJob {
  job: number;
  raw: string;
  pred: string;
  gold: string;
  symbolic: boolean;
}

/** Worker -> main thread. */
export type WorkerReply = { ready: true } | { job: number; verdict: MathVerdict };

export interface ServeOptions {
  /** Runs before each job (tests use it to make a worker hang for real). */
  beforeJob?: (job: WorkerJob) => void;
}

/** The body of a verifier worker: answers jobs on `parentPort` until terminated. */
export async function serveVerifier(options: ServeOptions = {}): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveVerifier must run in a worker thread');
  const data = workerData as { symbolic?: boolean } | null;
  if (data?.symbolic !== false) {
    try {
      await loadSymbolicBackend();
    } catch {
      // Without the symbolic backend the built-in comparisons still work.
    }
  }
  port.on('message', (job: WorkerJob) => {
    let v: MathVerdict;
    try {
      options.beforeJob?.(job);
      v = compareNormalized(job.raw, job.pred, job.gold, { symbolicFallback: job.symbolic });
    } catch (e) {
      v = verdict('error', job.raw, `checker failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const reply: WorkerReply = { job: job.job, verdict: v };
    port.postMessage(reply);
  });
  const ready: WorkerReply = { ready: true };
  port.postMessage(ready);
}
