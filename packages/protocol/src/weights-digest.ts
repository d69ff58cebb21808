/**
 * The policy version hash: sha256 over the manifest's tensor list (name, dtype, shape and each
 * tensor's own sha256, in order). Learner, actors and the weight service all use this definition,
 * so a trajectory's `weightsSha256` can be checked against the version it claims.
 */
import { createHash } from 'node:crypto';

export interface TensorDigest {
  name: string;
  dtype: string;
  shape: readonly number[];
  sha256: string;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function weightsDigest(tensors: readonly TensorDigest[]): string {
  const h = createHash('sha256');
  for (const t of tensors) h.update(`${t.name}\t${t.dtype}\t${t.shape.join('x')}\t${t.sha256}\n`);
  return h.digest('hex');
}
