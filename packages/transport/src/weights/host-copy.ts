/**
 * The host cache's files (see host-cache.ts). A downloader writes the body to `<digest>.partial`
 * as its bytes land (in order, one write at a time, so the file's size is always the length of a
 * written prefix) and renames it to `<digest>.weights` once every tensor checked out. Readers
 * follow the partial file as it grows, so they finish right after the download instead of
 * waiting for it; they accept what they read only when the file they hold is the one renamed
 * into place (same inode), which is the writer's word that those bytes are verified.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, write, writeSync } from 'node:fs';
import type { WeightManifest } from '@acereason/protocol';
import type { WeightSnapshot } from '../grpc/weights.js';

/** Tensor buffers for `m` (`reuse`'s where a tensor's size matches), filled in body order. */
export class BodyBuffers {
  readonly buffers: Uint8Array[];
  private i = 0;
  private off = 0;
  filled = 0;

  constructor(private readonly m: WeightManifest, reuse: WeightSnapshot | undefined) {
    const spare = new Map((reuse?.tensors ?? []).map((t) => [t.name, t.data]));
    this.buffers = m.tensors.map((t) => {
      const old = spare.get(t.name);
      return old && old.byteLength === t.byteLength ? old : new Uint8Array(t.byteLength);
    });
  }

  /** Reads body bytes [filled, upto) from `fd` (the file holds the body from offset 0). */
  readFrom(fd: number, upto: number): void {
    while (this.filled < upto) {
      const buf = this.buffers[this.i];
      if (buf === undefined) throw new Error('weights host copy: longer than the manifest');
      if (this.off === buf.byteLength) {
        this.i++;
        this.off = 0;
        continue;
      }
      const n = readSync(fd, buf, this.off, Math.min(buf.byteLength - this.off, upto - this.filled, 1 << 30), this.filled);
      if (n === 0) throw new Error('weights host copy: ended early');
      this.off += n;
      this.filled += n;
    }
  }

  snapshot(): WeightSnapshot {
    return { manifest: this.m, tensors: this.m.tensors.map((t, k) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: this.buffers[k] as Uint8Array })) };
  }
}

/** The body written to `partial` as it arrives, then renamed to `final` when the download verified. */
export class GrowingCopy {
  private readonly fd: number;
  private queued = 0;
  private tail: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(private readonly partial: string, private readonly final: string) {
    try {
      unlinkSync(partial); // a dead writer's: followers of it see another inode and let go
    } catch {
      // none
    }
    this.fd = openSync(partial, 'wx', 0o600);
  }

  /** Body bytes in order, as they land (the buffer must not change afterwards). */
  readonly push = (chunk: Uint8Array): void => {
    if (this.failed || chunk.byteLength === 0) return;
    const pos = this.queued;
    this.queued += chunk.byteLength;
    // One write at a time (the thread pool does it while the socket keeps reading): the file's size is a written prefix.
    this.tail = this.tail.then(() => writeFully(this.fd, chunk, pos)).catch(() => {
      this.failed = true;
    });
  };

  /** Waits for the writes, writes what the download did not push, and renames the copy into place. False: no shared copy. */
  async commit(snap: WeightSnapshot): Promise<boolean> {
    await this.tail;
    try {
      if (!this.failed && this.queued !== snap.manifest.totalBytes) {
        let pos = 0;
        for (const t of snap.tensors) {
          for (let off = 0; off < t.data.byteLength; ) off += writeSync(this.fd, t.data, off, Math.min(t.data.byteLength - off, 1 << 30), pos + off);
          pos += t.data.byteLength;
        }
      }
      if (this.failed) throw new Error('a write failed');
      closeSync(this.fd);
      renameSync(this.partial, this.final);
      return true;
    } catch {
      this.discard();
      return false;
    }
  }

  /** The download failed: no shared copy. */
  async abort(): Promise<void> {
    await this.tail;
    this.discard();
  }

  private discard(): void {
    try {
      closeSync(this.fd);
    } catch {
      // closed
    }
    try {
      unlinkSync(this.partial);
    } catch {
      // renamed or gone
    }
  }
}

function writeFully(fd: number, chunk: Uint8Array, pos: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number): void => {
      if (off >= chunk.byteLength) return resolve();
      write(fd, chunk, off, chunk.byteLength - off, pos + off, (err, n) => (err ? reject(err) : step(off + n)));
    };
    step(0);
  });
}

/** Whether the writer named in `lock` still runs (an empty or unreadable lock counts as gone). */
export type OwnerAlive = (lock: string) => boolean;

export interface FollowOptions {
  partial: string;
  final: string;
  lock: string;
  pollMs: number;
  deadline: number;
  ownerAlive: OwnerAlive;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const inode = (path: string): number | undefined => {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
};

/**
 * Follows a download in progress: reads `partial` as it grows into `into`'s buffers and returns
 * the snapshot once that very file is renamed to `final`. Undefined when there is no download to
 * follow, or the writer went away, or replaced the file (the caller looks again).
 */
export async function followCopy(m: WeightManifest, into: BodyBuffers, o: FollowOptions): Promise<WeightSnapshot | undefined> {
  let fd: number;
  try {
    fd = openSync(o.partial, 'r');
  } catch {
    return undefined;
  }
  try {
    const mine = fstatSync(fd).ino;
    while (Date.now() < o.deadline) {
      const size = Math.min(fstatSync(fd).size, m.totalBytes);
      if (size > into.filled) {
        into.readFrom(fd, size);
        continue;
      }
      const renamed = inode(o.final) === mine;
      if (renamed) {
        into.readFrom(fd, Math.min(fstatSync(fd).size, m.totalBytes)); // the writes before the rename
        return into.filled === m.totalBytes ? into.snapshot() : undefined;
      }
      // No progress: is there still a writer, and is it still writing this file (or has it just renamed it)?
      if ((inode(o.partial) !== mine || !o.ownerAlive(o.lock)) && inode(o.final) !== mine) return undefined;
      await sleep(o.pollMs);
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The pid in a claim file, or NaN. */
export function lockOwner(lock: string): number {
  try {
    return Number(readFileSync(lock, 'utf8'));
  } catch {
    return NaN;
  }
}
