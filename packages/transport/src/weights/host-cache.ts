/**
 * One download per host: actors on the same host that need the same version share it through a
 * directory (memory-backed where the host has one). The first actor to claim `<digest>.lock`
 * downloads and verifies the version, writes it to `<digest>.weights` (a temporary name renamed
 * into place, so a reader never sees a partial file) and releases the claim; the others wait for
 * the file and read it, which costs a memory copy instead of a transfer and a sha256 pass.
 *
 * Trust: the directory is private to the user (mode 0700) and a file appears under its digest only
 * after the writer checked every tensor against the manifest, so readers check its size and do not
 * hash it again. A claim whose process is gone is taken over; a download that fails releases it.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { WeightManifest } from '@acereason/protocol';
import type { WeightSnapshot } from '../grpc/weights.js';

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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type CacheOutcome = 'downloaded' | 'shared';

export class HostWeightCache {
  private readonly waitMs: number;
  private readonly pollMs: number;

  constructor(readonly dir: string = defaultWeightCacheDir(), opts: HostWeightCacheOptions = {}) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.waitMs = opts.waitMs ?? 600_000;
    this.pollMs = opts.pollMs ?? 20;
  }

  private file(m: WeightManifest): string {
    return join(this.dir, `${m.weightsSha256}.weights`);
  }

  /**
   * The verified version `m`: read from this host's copy if there is one, else downloaded by
   * `download` (here, or by another process while this one waits). `reuse`'s buffers receive the
   * bytes when the sizes match.
   */
  async get(m: WeightManifest, download: () => Promise<WeightSnapshot>, reuse?: WeightSnapshot): Promise<{ snapshot: WeightSnapshot; outcome: CacheOutcome }> {
    const lock = join(this.dir, `${m.weightsSha256}.lock`);
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const shared = this.read(m, reuse);
      if (shared) return { snapshot: shared, outcome: 'shared' };
      if (this.claim(lock)) {
        try {
          const snapshot = await download();
          this.write(m, snapshot);
          return { snapshot, outcome: 'downloaded' };
        } finally {
          try {
            unlinkSync(lock);
          } catch {
            // already gone
          }
        }
      }
      if (Date.now() > deadline) return { snapshot: await download(), outcome: 'downloaded' };
      await sleep(this.pollMs);
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
    let owner = NaN;
    try {
      owner = Number(readFileSync(lock, 'utf8'));
    } catch {
      return false; // released meanwhile: look for the file again
    }
    // An empty lock is one being written right now; a dead owner's is stale.
    if (!Number.isNaN(owner) && owner !== 0 && !pidAlive(owner)) {
      try {
        unlinkSync(lock);
      } catch {
        // someone else took it over first
      }
    }
    return false;
  }

  private read(m: WeightManifest, reuse: WeightSnapshot | undefined): WeightSnapshot | undefined {
    let fd: number;
    try {
      fd = openSync(this.file(m), 'r');
    } catch {
      return undefined;
    }
    try {
      if (statSync(this.file(m)).size !== m.totalBytes) return undefined;
      const spare = new Map((reuse?.tensors ?? []).map((t) => [t.name, t.data]));
      let pos = 0;
      const tensors = m.tensors.map((t) => {
        const old = spare.get(t.name);
        const data = old && old.byteLength === t.byteLength ? old : new Uint8Array(t.byteLength);
        for (let off = 0; off < t.byteLength; ) {
          const n = readSync(fd, data, off, Math.min(t.byteLength - off, 1 << 30), pos + off);
          if (n === 0) throw new Error(`weights cache: ${this.file(m)} ended early`);
          off += n;
        }
        pos += t.byteLength;
        return { name: t.name, dtype: t.dtype, shape: t.shape, data };
      });
      return { manifest: m, tensors };
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /** Writes a verified version for the other processes and drops older ones (open readers keep theirs). */
  private write(m: WeightManifest, snap: WeightSnapshot): void {
    const tmp = `${this.file(m)}.${process.pid}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        let pos = 0;
        for (const t of snap.tensors) {
          for (let off = 0; off < t.data.byteLength; ) off += writeSync(fd, t.data, off, Math.min(t.data.byteLength - off, 1 << 30), pos + off);
          pos += t.data.byteLength;
        }
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file(m));
    } catch {
      // No room (or no permission) for the shared copy: this process has the version anyway.
      try {
        unlinkSync(tmp);
      } catch {
        // never created
      }
      return;
    }
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
