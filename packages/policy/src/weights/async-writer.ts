/**
 * The writers of hf-dir-writer.ts and safetensors-writer.ts without blocking the event loop: the
 * same files byte for byte, written with positional FileHandle writes of at most one chunk at a
 * time (F32 chunks are views of the tensors, no copy; BF16 is converted into one reused chunk
 * buffer; small tensors are gathered in one bounded staging buffer), fsynced, the folder built in a hidden sibling and renamed into place. A process that
 * serves while it writes (the learner during a checkpoint) keeps answering between chunks.
 */
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AceReasonError, ErrorCodes } from '@acereason/protocol';
import { layoutFiles, shardLayout, siblingOf, type SafetensorsShardsOptions } from './hf-dir-writer.js';
import { IO_CHUNK_BYTES } from './safetensors-file.js';
import { bf16Buffer, safetensorsHeaderBytes, tensorChunks, tensorValues, type TensorSource, type WriteDtype } from './safetensors-writer.js';

export interface AsyncWriteOptions {
  /** Bytes per write call (default 64 MiB): the event loop is served between two of them. */
  chunkBytes?: number;
}

type Handle = Awaited<ReturnType<typeof open>>;

async function writeAll(fh: Handle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) done += (await fh.write(buf, done, buf.length - done, position + done)).bytesWritten;
}

/** The staging buffer of a file write: at most this many bytes (or one chunk, if smaller). */
const STAGE_BYTES = 8 * 2 ** 20;

/**
 * Sequential writes to a file through one bounded staging buffer: pieces smaller than it (norms,
 * biases, headers: hundreds per checkpoint) are gathered into one write each time it fills, so
 * they do not cost a trip to the thread pool apiece; a larger piece is written from where it is,
 * after at most one buffer's worth of it topped up what was staged.
 */
class StagedWriter {
  private readonly stage: Uint8Array;
  private staged = 0;

  constructor(private readonly fh: Handle, private pos: number, size: number) {
    this.stage = new Uint8Array(size);
  }

  async write(b: Uint8Array): Promise<void> {
    let off = 0;
    while (off < b.length) {
      if (this.staged === 0 && b.length - off >= this.stage.length) {
        await writeAll(this.fh, b.subarray(off), this.pos);
        this.pos += b.length - off;
        return;
      }
      const n = Math.min(this.stage.length - this.staged, b.length - off);
      this.stage.set(b.subarray(off, off + n), this.staged);
      this.staged += n;
      off += n;
      if (this.staged === this.stage.length) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.staged === 0) return;
    await writeAll(this.fh, this.stage.subarray(0, this.staged), this.pos);
    this.pos += this.staged;
    this.staged = 0;
  }

  /** Bytes handed to write() so far (written or staged). */
  get position(): number {
    return this.pos + this.staged;
  }
}

function chunkElemsOf(o: AsyncWriteOptions): number {
  const bytes = o.chunkBytes ?? IO_CHUNK_BYTES;
  if (!Number.isInteger(bytes) || bytes < 4) throw new AceReasonError(ErrorCodes.INVALID, `chunkBytes: expected an integer of at least 4, got ${bytes}`, { field: 'chunkBytes' });
  return Math.floor(bytes / 4);
}

/** writeSafetensorsFile without blocking: the same bytes, fsynced. Returns the file's size. */
export async function writeSafetensorsFileAsync(path: string, tensors: readonly TensorSource[], dtype: WriteDtype = 'F32', metadata: Record<string, string> = {}, o: AsyncWriteOptions = {}): Promise<number> {
  const chunkElems = chunkElemsOf(o);
  const hb = safetensorsHeaderBytes(tensors, dtype, metadata);
  const fh = await open(path, 'w');
  try {
    const out = new StagedWriter(fh, 0, Math.min(STAGE_BYTES, chunkElems * 4));
    await out.write(hb);
    const conv = bf16Buffer(tensors, dtype, chunkElems);
    for (const t of tensors) {
      // Each chunk is written (or staged) before the next is made: the BF16 buffer is reused safely.
      for (const chunk of tensorChunks(tensorValues(t), dtype, chunkElems, conv)) await out.write(chunk);
    }
    await out.flush();
    await fh.sync();
    return out.position;
  } finally {
    await fh.close();
  }
}

/** writeSafetensorsShards without blocking: the same shards and index. Returns the file names written. */
export async function writeSafetensorsShardsAsync(dir: string, tensors: readonly TensorSource[], o: SafetensorsShardsOptions & AsyncWriteOptions = {}): Promise<string[]> {
  const l = shardLayout(tensors, o);
  for (const s of l.shards) await writeSafetensorsFileAsync(join(dir, s.name), s.tensors, l.dtype, l.metadata, o);
  if (l.index) await writeSyncedAsync(join(dir, l.index.name), l.index.text);
  return layoutFiles(l);
}

/** Writes a (small) file and fsyncs it. */
export async function writeSyncedAsync(path: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fsyncDirAsync(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

/**
 * writeFolderAtomically without blocking: `fill` writes into a hidden `.partial-*` sibling, the
 * folder is fsynced and renamed into place (an existing one moved aside first when `replace`).
 * A crash leaves either the old folder or the complete new one, plus at worst the sibling; a
 * failed `fill` removes the sibling and rethrows.
 */
export async function writeFolderAtomicallyAsync(dir: string, fill: (tmp: string) => Promise<void>, replace = false): Promise<void> {
  if (!replace && (await exists(dir))) throw new AceReasonError(ErrorCodes.CONFLICT, `${dir} already exists`, { field: 'dir' });
  const tmp = siblingOf(dir, 'partial');
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  try {
    await fill(tmp);
    await fsyncDirAsync(tmp);
    if (await exists(dir)) {
      const old = siblingOf(dir, 'old');
      await rename(dir, old);
      await rename(tmp, dir);
      await rm(old, { recursive: true, force: true });
    } else await rename(tmp, dir);
    await fsyncDirAsync(parent);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
