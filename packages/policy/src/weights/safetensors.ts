import { DecodeError } from '@acereason/protocol';
import type { NamedTensor } from '../model/params.js';
import { numel } from '../model/params.js';

/**
 * safetensors: an 8-byte little-endian header length, a JSON header mapping each tensor name to
 * {dtype, shape, data_offsets} (plus optional string `__metadata__`), then the raw little-endian data.
 * We write F32 and read F32, F16 and BF16 (converted to F32).
 */
export interface SafetensorsFile {
  tensors: NamedTensor[];
  metadata: Record<string, string>;
}

export function writeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header so the data section starts 8-byte aligned.
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hb = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * Math.pow(2, -14) * (f / 1024);
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * Math.pow(2, e - 15) * (1 + f / 1024);
}

export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw new DecodeError('safetensors: file too short');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new DecodeError('safetensors: header length exceeds file');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new DecodeError('safetensors: header is not JSON', { cause });
  }
  const base = 8 + n;
  const tensors: NamedTensor[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = info.shape;
    const offs = info.data_offsets;
    if (!Array.isArray(shape) || !Array.isArray(offs) || offs.length !== 2) throw new DecodeError(`safetensors: bad entry for ${name}`);
    const [a, b] = offs as [number, number];
    const count = numel(shape as number[]);
    const src = bytes.subarray(base + a, base + b);
    const data = new Float32Array(count);
    const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
    if (info.dtype === 'F32') {
      if (src.byteLength !== count * 4) throw new DecodeError(`safetensors: size mismatch for ${name}`);
      for (let i = 0; i < count; i++) data[i] = sv.getFloat32(i * 4, true);
    } else if (info.dtype === 'F16' || info.dtype === 'BF16') {
      if (src.byteLength !== count * 2) throw new DecodeError(`safetensors: size mismatch for ${name}`);
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        const h = sv.getUint16(i * 2, true);
        if (info.dtype === 'F16') data[i] = f16ToF32(h);
        else {
          tmp.setUint32(0, h << 16, true);
          data[i] = tmp.getFloat32(0, true);
        }
      }
    } else throw new DecodeError(`safetensors: unsupported dtype ${String(info.dtype)} for ${name}`);
    tensors.push({ name, dtype: 'F32', shape: [...(shape as number[])], data });
  }
  tensors.sort((x, y) => ((header[x.name] as { data_offsets: number[] }).data_offsets[0] ?? 0) - ((header[y.name] as { data_offsets: number[] }).data_offsets[0] ?? 0));
  return { tensors, metadata };
}
