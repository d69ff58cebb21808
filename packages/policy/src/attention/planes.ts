/** Float buffers of either precision (float64 is used by the gradient checks). */
export type FArray = Float32Array | Float64Array;

export function allocLike(like: FArray, n: number): FArray {
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/**
 * Tensors laid out as `planes` contiguous [T, width] matrices (heads first). These copy the rows
 * [a, a + n) of every plane to or from a dense [planes, n, width] block.
 */
export function slicePlanes(src: FArray, planes: number, T: number, width: number, a: number, n: number, dst: FArray = allocLike(src, planes * n * width)): FArray {
  for (let p = 0; p < planes; p++) dst.set(src.subarray((p * T + a) * width, (p * T + a + n) * width), p * n * width);
  return dst;
}

export function writePlanes(dst: FArray, block: FArray, planes: number, T: number, width: number, a: number, n: number): void {
  for (let p = 0; p < planes; p++) dst.set(block.subarray(p * n * width, (p + 1) * n * width), (p * T + a) * width);
}
