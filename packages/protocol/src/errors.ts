/**
 * Typed errors with stable codes. Callers branch on `code` and `retryable`, never on message text.
 * Over the wire an error is data: see `toErrorData` / `fromErrorData`.
 */
export const ErrorCodes = {
  /** A message or config failed validation; the `field` says where. */
  INVALID: 'INVALID',
  /** Bytes could not be decoded at all. */
  DECODE: 'DECODE',
  /** A schema version this build does not understand. */
  SCHEMA_VERSION: 'SCHEMA_VERSION',
  /** A peer did not answer in time. */
  TIMEOUT: 'TIMEOUT',
  /** A peer or resource is unavailable right now. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** A sha256 did not match what was announced. */
  INTEGRITY: 'INTEGRITY',
  /** Something asked for does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** A request conflicts with the current state (for example a stale policy version). */
  CONFLICT: 'CONFLICT',
  /** The operation was cancelled (shutdown, abort signal). */
  CANCELLED: 'CANCELLED',
  /** Refused by authentication or authorisation. */
  PERMISSION: 'PERMISSION',
  /** A bug or an unexpected failure. */
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['TIMEOUT', 'UNAVAILABLE']);

export interface AceReasonErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  /** Dotted path of the offending field, for validation errors. */
  field?: string;
}

export class AceReasonError extends Error {
  override readonly name: string = 'AceReasonError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: AceReasonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.field = options.field;
  }
}

/** A value failed validation. The message starts with the field path so a user sees what is wrong. */
export class ValidationError extends AceReasonError {
  override readonly name = 'ValidationError';
  constructor(field: string, problem: string, options: Omit<AceReasonErrorOptions, 'field'> = {}) {
    super(ErrorCodes.INVALID, `${field}: ${problem}`, { ...options, field, retryable: false });
  }
}

export class DecodeError extends AceReasonError {
  override readonly name = 'DecodeError';
  constructor(message: string, options: AceReasonErrorOptions = {}) {
    super(ErrorCodes.DECODE, message, { ...options, retryable: false });
  }
}

export class TimeoutError extends AceReasonError {
  override readonly name = 'TimeoutError';
  constructor(message: string, options: AceReasonErrorOptions = {}) {
    super(ErrorCodes.TIMEOUT, message, { retryable: true, ...options });
  }
}

export class IntegrityError extends AceReasonError {
  override readonly name = 'IntegrityError';
  constructor(message: string, options: AceReasonErrorOptions = {}) {
    super(ErrorCodes.INTEGRITY, message, { retryable: true, ...options });
  }
}

/** Errors as data, for replies that cross a process boundary. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  field?: string;
}
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorData };

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** Normalises any thrown value at a boundary. */
export function toAceReasonError(err: unknown): AceReasonError {
  if (err instanceof AceReasonError) return err;
  if (err instanceof Error) return new AceReasonError(ErrorCodes.INTERNAL, err.message, { cause: err });
  return new AceReasonError(ErrorCodes.INTERNAL, String(err));
}

export function toErrorData(err: unknown): ErrorData {
  const e = toAceReasonError(err);
  return e.field === undefined
    ? { code: e.code, message: e.message, retryable: e.retryable }
    : { code: e.code, message: e.message, retryable: e.retryable, field: e.field };
}

export function fromErrorData(data: ErrorData): AceReasonError {
  const code: ErrorCode = KNOWN_CODES.has(data.code) ? data.code : ErrorCodes.INTERNAL;
  const opts: AceReasonErrorOptions = { retryable: data.retryable };
  if (data.field !== undefined) opts.field = data.field;
  return new AceReasonError(code, data.message, opts);
}
