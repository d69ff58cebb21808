import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { numel } from '../model/params.js';
import { IO_CHUNK_BYTES } from './safetensors-file.js';

/** Dtypes we write: F32 (exact, checkpoints of a run) or BF16 (compact, as most HF models ship). */
export type WriteDtype = 'F32' | 'BF16';

/** A tensor to write; `data` may be produced on demand, so only one tensor need be in memory. */
export interface TensorSource {
  name: string;
  shape: readonly number[];
  data: Float32Array | (() => Float32Array);
}

const bytesPer = (d: WriteDtype): number => (d === 'F32' ? 4 : 2);
export const tensorBytes = (t: Pick<TensorSource, 'shape'>, d: WriteDtype): number => numel(t.shape) * bytesPer(d);

function writeAll(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

/** float32 -> bfloat16 bits, round to nearest even (NaN stays NaN). */
function toBf16(src: Float32Array, dst: Uint16Array, from: number, n: number): void {
  const u32 = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < n; i++) {
    const x = u32[from + i] as number;
    dst[i] = (x & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
  }
}

/** The 8-byte length and the JSON header (space-padded to 8 bytes) of a safetensors file of these tensors. */
export function safetensorsHeaderBytes(tensors: readonly TensorSource[], dtype: WriteDtype, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const n = tensorBytes(t, dtype);
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const out = new Uint8Array(8 + Buffer.byteLength(json));
  new DataView(out.buffer).setBigUint64(0, BigInt(out.length - 8), true);
  Buffer.from(out.buffer).write(json, 8, 'utf8');
  return out;
}

/** A tensor's values, produced now if it is a generator; refused if they do not fill its shape. */
export function tensorValues(t: TensorSource): Float32Array {
  const data = typeof t.data === 'function' ? t.data() : t.data;
  if (data.length !== numel(t.shape)) throw new RangeError(`${t.name}: ${data.length} values for shape [${t.shape.join(', ')}]`);
  return data;
}

/**
 * The bytes of one tensor in the file's dtype, at most `chunkElems` values at a time: F32 as views
 * of the tensor (no copy), BF16 converted into `conv` (reused, so valid until the next chunk).
 */
export function* tensorChunks(data: Float32Array, dtype: WriteDtype, chunkElems: number, conv: Uint16Array | undefined): Generator<Uint8Array> {
  for (let i0 = 0; i0 < data.length; i0 += chunkElems) {
    const n = Math.min(chunkElems, data.length - i0);
    if (dtype === 'F32') yield new Uint8Array(data.buffer, data.byteOffset + i0 * 4, n * 4);
    else {
      if (conv === undefined || conv.length < n) throw new RangeError(`bf16 buffer of ${conv?.length ?? 0} values for a chunk of ${n}`);
      toBf16(data, conv, i0, n);
      yield new Uint8Array(conv.buffer, 0, n * 2);
    }
  }
}

/** The BF16 conversion buffer of a file (one chunk or its largest tensor, whichever is smaller). */
export const bf16Buffer = (tensors: readonly TensorSource[], dtype: WriteDtype, chunkElems: number): Uint16Array | undefined =>
  dtype === 'BF16' ? new Uint16Array(Math.min(chunkElems, Math.max(1, ...tensors.map((t) => numel(t.shape))))) : undefined;

/**
 * Writes one safetensors file tensor by tensor with positional writes through a bounded buffer,
 * then fsyncs it. Never holds more than one tensor (plus one chunk) in memory.
 */
export function writeSafetensorsFile(path: string, tensors: readonly TensorSource[], dtype: WriteDtype = 'F32', metadata: Record<string, string> = {}): number {
  const hb = safetensorsHeaderBytes(tensors, dtype, metadata);
  const fd = openSync(path, 'w');
  try {
    writeAll(fd, hb, 0);
    let pos = hb.length;
    const chunkElems = IO_CHUNK_BYTES / 4;
    const conv = bf16Buffer(tensors, dtype, chunkElems);
    for (const t of tensors) {
      for (const chunk of tensorChunks(tensorValues(t), dtype, chunkElems, conv)) {
        writeAll(fd, chunk, pos);
        pos += chunk.length;
      }
    }
    fsyncSync(fd);
    return pos;
  } finally {
    closeSync(fd);
  }
}
