/**
 * Large blobs through a NATS object store (run assets, code tests): written once by the learner,
 * read by whoever needs them, always checked against the sha256 the reader was told. The store
 * splits an object into chunks (128 KiB by default) and keeps nats-server's own SHA-256 in the
 * object's info; `putObjectOnce` skips an upload whose name and digest are already there, and
 * `getObjectChecked` refuses an object whose size or sha256 differ from what the reference says.
 */
import { createHash } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { AceReasonError, ErrorCodes, IntegrityError } from '@acereason/protocol';

export type { ObjectStore } from '@nats-io/obj';

/** What a reader is told about an object: its name, sha256 (hex) and size. */
export interface StoredObject {
  name: string;
  sha256: string;
  bytes: number;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** nats-server's digest of the same bytes (`SHA-256=` + base64url with padding). */
function natsDigest(sha256hex: string): string {
  return `SHA-256=${Buffer.from(sha256hex, 'hex').toString('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;
}

/** The stream behind a bucket. */
export const objectStream = (bucket: string): string => `OBJ_${bucket}`;

/**
 * Opens a bucket. `create` (its owner, the learner): made when missing, file storage, `replicas`.
 * Others open it without a round trip (a reader may only have rights to get objects).
 */
export async function openObjectStore(nc: NatsConnection, bucket: string, opts: { create: boolean; replicas?: number }): Promise<ObjectStore> {
  const objm = new Objm(jetstream(nc));
  return opts.create ? objm.create(bucket, { replicas: opts.replicas ?? 1, storage: StorageType.File }) : objm.open(bucket, false);
}

/** Writes `bytes` as `name` unless an object with that name and content is there already. */
export async function putObjectOnce(os: ObjectStore, name: string, bytes: Uint8Array): Promise<{ object: StoredObject; written: boolean }> {
  const object = { name, sha256: sha256Hex(bytes), bytes: bytes.length };
  const info = await os.info(name);
  if (info !== null && !info.deleted && info.size === bytes.length && info.digest === natsDigest(object.sha256)) return { object, written: false };
  await os.putBlob({ name }, bytes);
  return { object, written: true };
}

/**
 * Reads `expect.name` and checks it is what the reader was told: NOT_FOUND when absent (or
 * deleted), INTEGRITY when its size or sha256 differ, INVALID when it is over `maxBytes`.
 * Connection failures are thrown as they are (the caller retries).
 */
export async function getObjectChecked(os: ObjectStore, expect: StoredObject, opts: { maxBytes?: number } = {}): Promise<Uint8Array> {
  const max = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  if (expect.bytes > max) throw new AceReasonError(ErrorCodes.INVALID, `object ${expect.name} is ${expect.bytes} bytes, over the ${max}-byte limit`, { field: 'bytes' });
  const info = await os.info(expect.name);
  if (info === null || info.deleted) throw new AceReasonError(ErrorCodes.NOT_FOUND, `object ${expect.name} is not in the object store`, { retryable: false });
  if (info.size !== expect.bytes) throw new IntegrityError(`object ${expect.name} is ${info.size} bytes, the reference says ${expect.bytes}`, { retryable: false });
  const data = await os.getBlob(expect.name);
  if (data === null) throw new AceReasonError(ErrorCodes.NOT_FOUND, `object ${expect.name} is not in the object store`, { retryable: false });
  const got = sha256Hex(data);
  if (got !== expect.sha256) throw new IntegrityError(`object ${expect.name} has sha256 ${got}, the reference says ${expect.sha256}`, { retryable: false });
  return data;
}
