import { createHash } from 'node:crypto';
import type { NamedTensor } from '../model/params.js';

/**
 * The policy version hash: sha256 over each tensor's name, shape and little-endian f32 bytes, in
 * name order, so it does not depend on file layout or tensor order.
 */
export function weightsSha256(tensors: readonly NamedTensor[]): string {
  const h = createHash('sha256');
  for (const t of [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    h.update(`${t.name}\u0000${t.shape.join(',')}\u0000`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}
