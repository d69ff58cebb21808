/**
 * sha256 off the receiving thread: a worker hashes byte ranges of shared tensor buffers in the
 * order they are posted, so a large transfer's hashing runs alongside its socket reads instead of
 * between them. One worker per process, shared by every transfer, not keeping the process alive.
 */
import { createHash, type Hash } from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

type ToWorker =
  | { kind: 'update'; job: number; k: number; buf: SharedArrayBuffer; from: number; to: number }
  | { kind: 'digest'; job: number; n: number };
type FromWorker = { job: number; digests: string[] } | { job: number; error: string };

const ROLE = 'acereason-hash-worker';

// Only in the worker started below (another worker thread importing this module is left alone).
if (!isMainThread && parentPort && workerData === ROLE) {
  const port = parentPort;
  const jobs = new Map<number, Map<number, Hash>>();
  port.on('message', (m: ToWorker) => {
    try {
      if (m.kind === 'update') {
        let h = jobs.get(m.job);
        if (!h) jobs.set(m.job, (h = new Map()));
        let x = h.get(m.k);
        if (!x) h.set(m.k, (x = createHash('sha256')));
        x.update(new Uint8Array(m.buf, m.from, m.to - m.from));
      } else {
        const h = jobs.get(m.job);
        jobs.delete(m.job);
        const digests = [...Array(m.n).keys()].map((k) => (h?.get(k) ?? createHash('sha256')).digest('hex'));
        port.postMessage({ job: m.job, digests } satisfies FromWorker);
      }
    } catch (err) {
      port.postMessage({ job: m.job, error: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
    }
  });
}

let worker: Worker | undefined;
let nextJob = 1;
const waiting = new Map<number, { resolve: (d: string[]) => void; reject: (e: Error) => void }>();

function theWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL(import.meta.url), { workerData: ROLE });
  w.unref();
  w.on('message', (m: FromWorker) => {
    const p = waiting.get(m.job);
    waiting.delete(m.job);
    if ('error' in m) p?.reject(new Error(`hash worker: ${m.error}`));
    else p?.resolve(m.digests);
  });
  w.on('error', (err) => {
    for (const p of waiting.values()) p.reject(err);
    waiting.clear();
    worker = undefined;
  });
  worker = w;
  return w;
}

/** The sha256 of tensors 0..n-1 of one transfer, fed range by range (each tensor's ranges in order). */
export class OffThreadHashes {
  private readonly job = nextJob++;
  private readonly w = theWorker();

  /** Bytes [from, to) of `view`'s shared buffer (offsets within the view) belong to tensor k. */
  update(k: number, view: Uint8Array, from: number, to: number): void {
    this.w.postMessage({ kind: 'update', job: this.job, k, buf: view.buffer as SharedArrayBuffer, from: view.byteOffset + from, to: view.byteOffset + to } satisfies ToWorker);
  }

  /** Hex digests of tensors 0..n-1 (one never updated: the empty input's). */
  digests(n: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      waiting.set(this.job, { resolve, reject });
      this.w.ref();
      this.w.postMessage({ kind: 'digest', job: this.job, n } satisfies ToWorker);
    }).finally(() => {
      if (waiting.size === 0) this.w.unref();
    }) as Promise<string[]>;
  }
}
