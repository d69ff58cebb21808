/**
 * The writers of hf-dir-writer.ts and safetensors-writer.ts without blocking the event loop: the
 * same files byte for byte, written with positional FileHandle writes of at most one chunk at a
 * time (F32 chunks are views of the tensors, no copy; BF16 is converted into one reused chunk
 * buffer), fsynced, the folder built in a hidden sibling and renamed into place. A process that
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
    await writeAll(fh, hb, 0);
    let pos = hb.length;
    const conv = bf16Buffer(tensors, dtype, chunkElems);
    for (const t of tensors) {
      // Each chunk is written before the next is made: the BF16 buffer is reused safely.
      for (const chunk of tensorChunks(tensorValues(t), dtype, chunkElems, conv)) {
        await writeAll(fh, chunk, pos);
        pos += chunk.length;
      }
    }
    await fh.sync();
    return pos;
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
