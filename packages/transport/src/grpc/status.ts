/** Maps our typed errors to gRPC statuses and back; the stable code travels in metadata. */
import { status as GrpcStatus, Metadata, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { AceReasonError, ErrorCodes, toAceReasonError, type ErrorCode } from '@acereason/protocol';

const CODE_KEY = 'acereason-code';
const RETRY_KEY = 'acereason-retryable';

const toGrpc: Record<ErrorCode, GrpcStatus> = {
  INVALID: GrpcStatus.INVALID_ARGUMENT,
  DECODE: GrpcStatus.INVALID_ARGUMENT,
  SCHEMA_VERSION: GrpcStatus.FAILED_PRECONDITION,
  TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  INTEGRITY: GrpcStatus.DATA_LOSS,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  CONFLICT: GrpcStatus.FAILED_PRECONDITION,
  CANCELLED: GrpcStatus.CANCELLED,
  PERMISSION: GrpcStatus.PERMISSION_DENIED,
  INTERNAL: GrpcStatus.INTERNAL,
};

const fromGrpc: Partial<Record<GrpcStatus, ErrorCode>> = {
  [GrpcStatus.INVALID_ARGUMENT]: ErrorCodes.INVALID,
  [GrpcStatus.DEADLINE_EXCEEDED]: ErrorCodes.TIMEOUT,
  [GrpcStatus.UNAVAILABLE]: ErrorCodes.UNAVAILABLE,
  [GrpcStatus.DATA_LOSS]: ErrorCodes.INTEGRITY,
  [GrpcStatus.NOT_FOUND]: ErrorCodes.NOT_FOUND,
  [GrpcStatus.FAILED_PRECONDITION]: ErrorCodes.CONFLICT,
  [GrpcStatus.CANCELLED]: ErrorCodes.CANCELLED,
  [GrpcStatus.PERMISSION_DENIED]: ErrorCodes.PERMISSION,
  [GrpcStatus.UNAUTHENTICATED]: ErrorCodes.PERMISSION,
};

export function errorToStatus(err: unknown): Partial<StatusObject> {
  const e = toAceReasonError(err);
  const metadata = new Metadata();
  metadata.set(CODE_KEY, e.code);
  metadata.set(RETRY_KEY, String(e.retryable));
  return { code: toGrpc[e.code], details: e.message, metadata };
}

export function statusToError(err: ServiceError): AceReasonError {
  const codeMeta = err.metadata?.get(CODE_KEY)[0];
  const retryMeta = err.metadata?.get(RETRY_KEY)[0];
  const known = new Set<string>(Object.values(ErrorCodes));
  const code: ErrorCode = typeof codeMeta === 'string' && known.has(codeMeta) ? (codeMeta as ErrorCode) : (fromGrpc[err.code] ?? ErrorCodes.INTERNAL);
  const opts = retryMeta === undefined ? { cause: err } : { cause: err, retryable: retryMeta === 'true' };
  return new AceReasonError(code, err.details || err.message, opts);
}
