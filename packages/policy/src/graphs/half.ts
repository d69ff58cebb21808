import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';

/**
 * Half-precision copies of the generation graphs (fp32 master weights stay in the engine): every
 * float32 tensor of a serialised model becomes float16 or bfloat16 (initializers, fed weights,
 * Cast targets, constant attributes); the host-side float32 inputs (rotary tables, mask, KV cache)
 * are cast on entry and the float32 outputs (logits, new K/V) on exit, so the host code and the KV
 * cache are unchanged. Values are rounded to nearest even.
 */
export type HalfType = 'float16' | 'bfloat16';
export type GenerationDtype = 'float32' | HalfType;
export const GENERATION_DTYPES: readonly GenerationDtype[] = ['float32', 'float16', 'bfloat16'];

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;
const F32 = DT.FLOAT;
const code = (t: HalfType): number => (t === 'float16' ? DT.FLOAT16 : DT.BFLOAT16);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of x, rounded to nearest even (overflow to +-inf, subnormals kept). */
export function toFloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0] as number;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man !== 0 ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    man |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = man >>> shift;
    const rest = man & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1) === 1)) m += 1;
    return sign | m;
  }
  let m = man >>> 13;
  const rest = man & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
    m += 1;
    if (m === 0x400) {
      m = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** bfloat16 bits of x (the upper half of the float32, rounded to nearest even; NaN stays NaN). */
export function toBfloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0] as number;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The half-precision bits of a float32 array. */
export function halfBits(data: Float32Array, t: HalfType): Uint16Array {
  const out = new Uint16Array(data.length);
  const conv = t === 'float16' ? toFloat16Bits : toBfloat16Bits;
  for (let i = 0; i < data.length; i++) out[i] = conv(data[i] as number);
  return out;
}

function convertTensor(t: P.ITensorProto, ht: HalfType): void {
  if (t.dataType !== F32) return;
  let data: Float32Array;
  if (t.rawData !== undefined && t.rawData !== null && t.rawData.length > 0) {
    const raw = t.rawData;
    data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  } else data = Float32Array.from(t.floatData ?? []);
  const bits = halfBits(data, ht);
  t.dataType = code(ht);
  t.floatData = [];
  t.rawData = new Uint8Array(bits.buffer);
}

const elemOf = (v: P.IValueInfoProto): number | null | undefined => v.type?.tensorType?.elemType;
function setElem(v: P.IValueInfoProto, e: number): void {
  const tt = v.type?.tensorType;
  if (tt !== undefined && tt !== null) tt.elemType = e;
}

/**
 * The model of `bytes` in `ht`. `fedHalf` names float32 graph inputs that the host will feed
 * already in `ht` (weights fed as inputs); every other float32 input and output stays float32 at
 * the boundary.
 */
export function toHalfModel(bytes: Uint8Array, ht: HalfType, fedHalf: ReadonlySet<string> = new Set()): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph;
  if (g === undefined || g === null) throw new Error('model has no graph');
  const nodes = g.node ?? [];
  const H = code(ht);
  for (const t of g.initializer ?? []) convertTensor(t, ht);
  for (const n of nodes) {
    for (const a of n.attribute ?? []) {
      if (a.name === 'to' && n.opType === 'Cast' && Number(a.i) === F32) a.i = H;
      if (a.t !== undefined && a.t !== null) convertTensor(a.t, ht);
    }
  }
  const rename = (from: string, to: string): void => {
    for (const n of nodes) n.input = (n.input ?? []).map((x) => (x === from ? to : x));
  };
  const entry: P.INodeProto[] = [];
  for (const v of g.input ?? []) {
    if (elemOf(v) !== F32) continue;
    const name = v.name ?? '';
    if (fedHalf.has(name)) {
      setElem(v, H);
      continue;
    }
    rename(name, `${name}.half`);
    entry.push({ opType: 'Cast', input: [name], output: [`${name}.half`], name: `cast_in.${name}`, attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: H }] });
  }
  const exit: P.INodeProto[] = [];
  for (const v of g.output ?? []) {
    if (elemOf(v) !== F32) continue;
    const name = v.name ?? '';
    for (const n of nodes) n.output = (n.output ?? []).map((x) => (x === name ? `${name}.half` : x));
    rename(name, `${name}.half`);
    exit.push({ opType: 'Cast', input: [`${name}.half`], output: [name], name: `cast_out.${name}`, attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: F32 }] });
  }
  g.node = [...entry, ...nodes, ...exit];
  g.valueInfo = [];
  return onnx.ModelProto.encode(m).finish();
}
