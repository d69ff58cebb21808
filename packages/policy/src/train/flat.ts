import type { NamedTensor } from '../model/params.js';

/** Elements per flat buffer: large tensors share few allocations, and none exceeds the 4 GiB typed-array limit. */
const FLAT_ELEMENTS = 1 << 28;

/**
 * One zeroed buffer per group of consecutive tensors (in the given order), each tensor a view into
 * it: parameters, gradients and optimizer moments live in a few flat allocations instead of one
 * per tensor, and are updated in place.
 */
export function allocateFlat(tensors: readonly { name: string; shape: readonly number[] }[]): NamedTensor[] {
  const sizes = tensors.map((t) => t.shape.reduce((a, b) => a * b, 1));
  const out: NamedTensor[] = [];
  let i = 0;
  while (i < tensors.length) {
    let n = 0;
    let j = i;
    while (j < tensors.length && (j === i || n + (sizes[j] as number) <= FLAT_ELEMENTS)) n += sizes[j++] as number;
    const buf = new Float32Array(n);
    let off = 0;
    for (let k = i; k < j; k++) {
      const t = tensors[k] as { name: string; shape: readonly number[] };
      const len = sizes[k] as number;
      out.push({ name: t.name, dtype: 'F32', shape: [...t.shape], data: buf.subarray(off, off + len) });
      off += len;
    }
    i = j;
  }
  return out;
}

/** A flat copy of `tensors` (same order). */
export function flatCopy(tensors: readonly NamedTensor[]): NamedTensor[] {
  const out = allocateFlat(tensors);
  out.forEach((t, i) => t.data.set((tensors[i] as NamedTensor).data));
  return out;
}
