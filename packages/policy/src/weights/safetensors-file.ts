import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DecodeError, ValidationError } from '@acereason/protocol';
import { numel } from '../model/params.js';

/** Dtypes read from checkpoints (converted to float32 as they stream). */
export type StoredDtype = 'F32' | 'F16' | 'BF16';
const DTYPE_BYTES: Record<StoredDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/** One tensor of a safetensors file, located by absolute byte offsets in the file. */
export interface SafetensorsEntry {
  name: string;
  dtype: StoredDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  fileSize: number;
}

/** Largest header we accept (the format caps it at 100 MB). */
const MAX_HEADER = 100_000_000;
/** Positional reads move at most this many bytes at a time (bounded buffers at any tensor size). */
export const IO_CHUNK_BYTES = 64 * 2 ** 20;

function readExactly(fd: number, buf: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new DecodeError(`${file}: unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

/** Reads and checks the header of an open safetensors file (no tensor data is read). */
export function readSafetensorsHeader(fd: number, file: string): SafetensorsHeader {
  const fileSize = fstatSync(fd).size;
  if (fileSize < 8) throw new DecodeError(`${file}: too short for a safetensors file (${fileSize} bytes)`);
  const lenBuf = new Uint8Array(8);
  readExactly(fd, lenBuf, 0, file);
  const n = Number(new DataView(lenBuf.buffer).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > fileSize) throw new DecodeError(`${file}: header length ${n} exceeds the file (${fileSize} bytes)`);
  const hb = new Uint8Array(n);
  readExactly(fd, hb, 8, file);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(hb).toString('utf8'));
  } catch (cause) {
    throw new DecodeError(`${file}: header is not JSON`, { cause });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new DecodeError(`${file}: header is not a JSON object`);
  const base = 8 + n;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const at = `${file}: tensor ${name}`;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== 'object' || info === null) throw new DecodeError(`${at}: entry is not an object`);
    if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16') throw new ValidationError(`${file}:${name}.dtype`, `${String(info.dtype)} is not supported (F32, F16, BF16)`);
    const shape = info.shape;
    const offs = info.data_offsets;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) throw new DecodeError(`${at}: bad shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((d) => !Number.isInteger(d))) throw new DecodeError(`${at}: bad data_offsets ${JSON.stringify(offs)}`);
    const [a, b] = offs as [number, number];
    const want = numel(shape as number[]) * DTYPE_BYTES[info.dtype];
    if (b - a !== want) throw new DecodeError(`${at}: data_offsets span ${b - a} bytes, shape and dtype need ${want}`);
    if (a < 0 || base + b > fileSize) throw new DecodeError(`${at}: data [${a}, ${b}) lies outside the file (${fileSize - base} data bytes; truncated?)`);
    entries.push({ name, dtype: info.dtype, shape: [...(shape as number[])], begin: base + a, end: base + b });
  }
  entries.sort((x, y) => x.begin - y.begin);
  for (let i = 1; i < entries.length; i++) {
    const prev = entries[i - 1] as SafetensorsEntry;
    const cur = entries[i] as SafetensorsEntry;
    if (cur.begin < prev.end) throw new DecodeError(`${file}: tensors ${prev.name} and ${cur.name} overlap`);
  }
  return { file, entries, metadata, fileSize };
}

/** Opens `path`, reads its header, closes it. */
export function readSafetensorsHeaderAt(path: string, file = path): SafetensorsHeader {
  const fd = openSync(path, 'r');
  try {
    return readSafetensorsHeader(fd, file);
  } finally {
    closeSync(fd);
  }
}

let f16Table: Float32Array | undefined;
function halfTable(): Float32Array {
  if (f16Table !== undefined) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    t[h] = e === 0 ? s * 2 ** -14 * (f / 1024) : e === 31 ? (f === 0 ? s * Infinity : NaN) : s * 2 ** (e - 15) * (1 + f / 1024);
  }
  f16Table = t;
  return t;
}

/**
 * One tensor as float32, read with positional reads in bounded chunks and converted as it
 * streams: the only allocation the size of the tensor is the result.
 */
export function readTensorF32(fd: number, e: SafetensorsEntry, file: string, into?: Float32Array): Float32Array {
  const count = numel(e.shape);
  if (into !== undefined && into.length !== count) throw new RangeError(`${file}: ${e.name} has ${count} values, the destination ${into.length}`);
  const out = into ?? new Float32Array(count);
  if (e.dtype === 'F32') {
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    for (let off = 0; off < bytes.length; off += IO_CHUNK_BYTES) readExactly(fd, bytes.subarray(off, Math.min(bytes.length, off + IO_CHUNK_BYTES)), e.begin + off, file);
    return out;
  }
  const chunkElems = IO_CHUNK_BYTES / 2;
  const buf = new Uint8Array(Math.min(count, chunkElems) * 2);
  const u16 = new Uint16Array(buf.buffer);
  const out32 = new Uint32Array(out.buffer, out.byteOffset, out.length);
  const table = e.dtype === 'F16' ? halfTable() : undefined;
  for (let i0 = 0; i0 < count; i0 += chunkElems) {
    const n = Math.min(chunkElems, count - i0);
    readExactly(fd, buf.subarray(0, n * 2), e.begin + i0 * 2, file);
    if (table === undefined) for (let i = 0; i < n; i++) out32[i0 + i] = (u16[i] as number) << 16;
    else for (let i = 0; i < n; i++) out[i0 + i] = table[u16[i] as number] as number;
  }
  return out;
}
