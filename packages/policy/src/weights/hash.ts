import { sha256Hex, weightsDigest } from '@acereason/protocol';
import type { TensorDigest } from '@acereason/protocol';
import type { NamedTensor } from '../model/params.js';

const bytesOf = (t: NamedTensor): Uint8Array => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

/** Per-tensor digests (name, dtype, shape, sha256 of the little-endian f32 bytes), in the given order. */
export function tensorDigests(tensors: readonly NamedTensor[]): TensorDigest[] {
  return tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], sha256: sha256Hex(bytesOf(t)) }));
}

/**
 * The policy version hash, by the protocol's definition (`weightsDigest` over the tensor list in
 * order), so the engine, the weight service and the actors agree. The engine always lists its
 * tensors in `paramSpecs` order.
 */
export function weightsSha256(tensors: readonly NamedTensor[]): string {
  return weightsDigest(tensorDigests(tensors));
}
