/**
 * One download per host: actors on the same host that need the same version share it through a
 * directory (memory-backed where the host has one). The first actor to claim `<digest>.lock`
 * downloads and verifies the version, writing the bytes to `<digest>.partial` as they land, and
 * renames that to `<digest>.weights` once verified; the others follow the partial file as it grows
 * (see host-copy.ts), so they hold the version right after the download, at the cost of a memory
 * copy instead of a transfer and a sha256 pass. A later reader reads the finished file.
 *
 * Trust: the directory is private to the user (mode 0700) and a file appears under its digest only
 * after the writer checked every tensor against the manifest, so readers check its size and do not
 * hash it again (a follower keeps its bytes only if the file it read is the one renamed). A claim
 * whose process is gone is taken over; a download that fails releases it.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { WeightManifest } from '@acereason/protocol';
import type { WeightSnapshot } from '../grpc/weights.js';
import { BodyBuffers, followCopy, GrowingCopy, lockOwner } from './host-copy.js';
import { Backoff } from '../retry/backoff.js';

/** Receives a version; `onBytes` (when given) sees the body's bytes in order as they land. */
export type WeightDownload = (onBytes?: (chunk: Uint8Array) => void) => Promise<WeightSnapshot>;

export interface HostWeightCacheOptions {
  /** How long to wait for another process's download before downloading here (default 10 min). */
  waitMs?: number;
  /** Poll interval while another process downloads (default 20 ms). */
  pollMs?: number;
}

/** The default directory: memory-backed when the host has one, private to this user. */
export function defaultWeightCacheDir(): string {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return join(base, `acereason-weights-${userInfo().uid}`);
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `shared`: read from the host's copy, finished or (`followed`) while it was being downloaded. */
export type CacheOutcome = 'downloaded' | 'shared' | 'followed';

export class HostWeightCache {
  private readonly waitMs: number;
  private readonly pollMs: number;

  constructor(readonly dir: string = defaultWeightCacheDir(), opts: HostWeightCacheOptions = {}) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.waitMs = opts.waitMs ?? 600_000;
    this.pollMs = opts.pollMs ?? 20;
  }

  private file(m: WeightManifest, ext: 'weights' | 'partial' | 'lock' = 'weights'): string {
    return join(this.dir, `${m.weightsSha256}.${ext}`);
  }

  /**
   * The verified version `m`: read from this host's copy if there is one, else downloaded by
   * `download` (here, or by another process while this one follows its copy). `reuse`'s buffers
   * receive the bytes when the sizes match.
   */
  async get(m: WeightManifest, download: WeightDownload, reuse?: WeightSnapshot): Promise<{ snapshot: WeightSnapshot; outcome: CacheOutcome }> {
    const lock = this.file(m, 'lock');
    const deadline = Date.now() + this.waitMs;
    // Another process holds the download claim: try again on the jittered back-off (processes that lost together do not retry together).
    const retry = new Backoff({ initialMs: this.pollMs, maxMs: this.pollMs * 10 });
    for (;;) {
      const shared = this.read(m, reuse);
      if (shared) return { snapshot: shared, outcome: 'shared' };
      if (this.claim(lock)) {
        try {
          let copy: GrowingCopy | undefined;
          try {
            copy = new GrowingCopy(this.file(m, 'partial'), this.file(m));
          } catch {
            // no room or no permission for the shared copy: download for this process alone
          }
          let snapshot: WeightSnapshot;
          try {
            snapshot = await download(copy?.push);
          } catch (err) {
            await copy?.abort();
            throw err;
          }
          if (copy && (await copy.commit(snapshot))) this.dropOthers(m);
          return { snapshot, outcome: 'downloaded' };
        } finally {
          try {
            unlinkSync(lock);
          } catch {
            // already gone
          }
        }
      }
      const followed = await followCopy(m, new BodyBuffers(m, reuse), {
        partial: this.file(m, 'partial'), final: this.file(m), lock, pollMs: this.pollMs, deadline,
        ownerAlive: (l) => pidAlive(lockOwner(l)),
      });
      if (followed) return { snapshot: followed, outcome: 'followed' };
      if (Date.now() > deadline) return { snapshot: await download(), outcome: 'downloaded' };
      await retry.wait();
    }
  }

  /** Takes the download claim, or takes it over from a process that no longer exists. */
  private claim(lock: string): boolean {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    const owner = lockOwner(lock);
    // (Unreadable: released meanwhile, look for the file again.) An empty lock is one being written right now; a dead owner's is stale.
    if (!Number.isNaN(owner) && owner !== 0 && !pidAlive(owner)) {
      try {
        unlinkSync(lock);
      } catch {
        // someone else took it over first
      }
    }
    return false;
  }

  /** The finished copy, if there is one of the right size. */
  private read(m: WeightManifest, reuse: WeightSnapshot | undefined): WeightSnapshot | undefined {
    let fd: number;
    try {
      fd = openSync(this.file(m), 'r');
    } catch {
      return undefined;
    }
    try {
      if (fstatSync(fd).size !== m.totalBytes) return undefined;
      const into = new BodyBuffers(m, reuse);
      into.readFrom(fd, m.totalBytes);
      return into.snapshot();
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /** Drops older versions' copies (open readers keep theirs). */
  private dropOthers(m: WeightManifest): void {
    for (const f of readdirSync(this.dir)) {
      if (f.endsWith('.weights') && f !== `${m.weightsSha256}.weights`) {
        try {
          unlinkSync(join(this.dir, f));
        } catch {
          // removed by another process
        }
      }
    }
  }
}
