/**
 * The protocol's error table as values: every failure a client can see is a
 * `StreamerError` with one of these codes.
 */

export const ERROR_CODES = {
  INVALID_REQUEST: { retryable: false },
  PAYLOAD_TOO_LARGE: { retryable: false },
  UNKNOWN_ACTION: { retryable: false },
  VALIDATION_ERROR: { retryable: false },
  UNAUTHORIZED: { retryable: false },
  FORBIDDEN: { retryable: false },
  NOT_FOUND: { retryable: false },
  RATE_LIMITED: { retryable: true },
  TIMEOUT: { retryable: true },
  CANCELLED: { retryable: false },
  INTERNAL_ERROR: { retryable: true },
} as const satisfies Record<string, { retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

export interface StreamerErrorOptions {
  /** Overrides the code's default retryability (e.g. a handler's non-retryable internal failure). */
  readonly retryable?: boolean;
  /** Structured, client-safe details (e.g. validation issues by field). */
  readonly details?: Record<string, unknown>;
  /** How long the caller should wait before retrying, in milliseconds. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

/** The error shape on the wire: `{ code, message, retryable, details?, retryAfterMs? }`. */
export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;
  readonly retryAfterMs?: number;
}

/**
 * A failure with a protocol error code.
 *
 * @example
 * throw new StreamerError('VALIDATION_ERROR', 'rows must be positive', { details: { field: 'rows' } });
 */
export class StreamerError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, options: StreamerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StreamerError';
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.details = options.details;
    this.retryAfterMs = options.retryAfterMs;
  }

  toWire(): WireError {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
    };
  }
}

/** A transient failure the processor retries with backoff (up to the handler's `maxRetries`). */
export class RetryableError extends StreamerError {
  constructor(message: string, options: { retryAfterMs?: number; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super('INTERNAL_ERROR', message, { ...options, retryable: true });
    this.name = 'RetryableError';
  }
}

/** A permanent failure: the request ends `failed` at once, never retried. */
export class FatalError extends StreamerError {
  constructor(message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super('INTERNAL_ERROR', message, { ...options, retryable: false });
    this.name = 'FatalError';
  }
}

/**
 * Maps anything thrown to a `StreamerError`. Unknown errors become a
 * retryable `INTERNAL_ERROR` whose message hides internals from clients.
 */
export function toStreamerError(error: unknown): StreamerError {
  if (error instanceof StreamerError) return error;
  return new StreamerError('INTERNAL_ERROR', 'The operation failed unexpectedly', { cause: error });
}
