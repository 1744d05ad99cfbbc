/**
 * The client's error type. It mirrors the server's `StreamerError` field for
 * field (code, retryable, details, retryAfterMs) without importing server
 * code, so the browser bundle stays small and free of Node built-ins.
 */
import type { ErrorCode, WireError } from '../functions/core/errors';

/**
 * Codes only the client produces: the server never sends them.
 *
 * - `DISCONNECTED`: the connection was lost (or never came up) and the
 *   request could not be completed; retryable.
 * - `RESULT_UNAVAILABLE`: a result sent by reference (over the message
 *   limit) could not be fetched: its URL expired, or the object is gone
 *   (results expire with their request). `details.status` is the HTTP
 *   status; `client.status(requestId)` hands out a fresh URL while the
 *   request is kept. Retryable.
 * - `UPLOAD_FAILED`: the bucket refused an upload's PUT (`details.status`);
 *   ask for a new upload and send again. Retryable.
 * - `RESULT_INTEGRITY`: what was fetched is not what the server announced
 *   (`dataBytes`, `dataSha256`); not retryable.
 *
 * @example
 * if (error.code === 'DISCONNECTED' && error.retryable) retryLater();
 */
export type ClientErrorCode = 'DISCONNECTED' | 'RESULT_UNAVAILABLE' | 'RESULT_INTEGRITY' | 'UPLOAD_FAILED';

/**
 * Every code a {@link StreamerError} can carry: the protocol's table plus the
 * client-only codes.
 *
 * @example
 * if (error instanceof StreamerError && error.code === 'RATE_LIMITED') await sleep(error.retryAfterMs ?? 1000);
 */
export type StreamerErrorCode = ErrorCode | ClientErrorCode;

/** Codes that are worth retrying when the server did not say otherwise (the protocol's table). */
const RETRYABLE_BY_DEFAULT: ReadonlySet<StreamerErrorCode> = new Set<StreamerErrorCode>([
  'RATE_LIMITED',
  'TIMEOUT',
  'INTERNAL_ERROR',
  'DISCONNECTED',
  'RESULT_UNAVAILABLE',
  'UPLOAD_FAILED',
]);

/**
 * Options of a {@link StreamerError}.
 *
 * @example
 * new StreamerError('TIMEOUT', 'No result in 5000 ms', { details: { timeoutMs: 5000 } });
 */
export interface StreamerErrorOptions {
  /** Overrides the code's default retryability. */
  readonly retryable?: boolean;
  /** Structured details, as the server sent them (e.g. validation issues by field). */
  readonly details?: Record<string, unknown>;
  /** How long to wait before retrying, in milliseconds, when the server said so. */
  readonly retryAfterMs?: number;
  /** The underlying failure, if any (an abort reason, a socket error). */
  readonly cause?: unknown;
}

/**
 * A failed request or connection, with a protocol error code.
 *
 * @example
 * try {
 *   await client.request('generate_report', { rows: 0 });
 * } catch (error) {
 *   if (error instanceof StreamerError && error.code === 'VALIDATION_ERROR') console.log(error.details);
 * }
 */
export class StreamerError extends Error {
  /** One of the protocol's codes, or a client-only code such as `DISCONNECTED`. */
  readonly code: StreamerErrorCode;
  /** Whether sending the same request again may succeed. */
  readonly retryable: boolean;
  /** Structured, client-safe details. */
  readonly details?: Record<string, unknown>;
  /** The server's advice on when to retry, in milliseconds. */
  readonly retryAfterMs?: number;

  constructor(code: StreamerErrorCode, message: string, options: StreamerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StreamerError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    if (options.details !== undefined) this.details = options.details;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /**
   * Builds the error a server's `error` message describes.
   *
   * @example
   * StreamerError.fromWire({ code: 'NOT_FOUND', message: 'No such request', retryable: false });
   */
  static fromWire(wire: WireError): StreamerError {
    return new StreamerError(wire.code, wire.message, {
      retryable: wire.retryable,
      details: wire.details,
      retryAfterMs: wire.retryAfterMs,
    });
  }
}
