/**
 * The AWS quotas Streamer relies on, written down once.
 *
 * `infra/` validates stack config against them, `local/` enforces them so a
 * program that works locally does not break on AWS, the functions size their
 * frames by them, and the client SDK fragments its messages by them. None of
 * these can be raised by a quota request unless its line says so; they are
 * constants, not settings.
 *
 * Sources (checked against the AWS documentation):
 * - "Quotas for configuring and running a WebSocket in API Gateway"
 *   (API Gateway developer guide, `apigateway-execution-service-websocket-limits-table`).
 *   Its footnote: because of the 32 KB frame size, a message larger than
 *   32 KB must be split into frames of 32 KB or less; this applies to
 *   `@connections` too; a larger message (or frame) closes the connection
 *   with code 1009.
 * - "Lambda quotas" (Lambda developer guide, `gettingstarted-limits`) and the
 *   `Invoke` API reference (payload sizes).
 * - "Quotas in Amazon DynamoDB" (item size).
 *
 * KB and MB are binary here, as AWS's own error messages count them
 * (for example `Request must be smaller than 6291456 bytes`).
 */

const KIB = 1024;
const MIB = 1024 * KIB;

/** API Gateway's WebSocket API limits, on AWS and in the local runtime alike. */
export const WEBSOCKET_LIMITS = {
  /** "WebSocket frame size": 32 KB, not adjustable. A larger frame closes the connection with 1009. */
  maxFrameBytes: 32 * KIB,
  /**
   * "Message payload size": 128 KB, not adjustable, whatever the
   * fragmentation. Applies to client messages (what the `$default` route
   * receives) and to `@connections` `PostToConnection` data alike.
   */
  maxMessageBytes: 128 * KIB,
  /** "Integration timeout": 50 ms to 29 s for every integration type; the route's Lambda answer must come within it. */
  integrationTimeoutSeconds: 29,
  /** "Idle Connection Timeout": 10 minutes without a frame either way closes the connection. */
  idleTimeoutMs: 10 * 60 * 1000,
  /** "Connection duration for WebSocket API": 2 hours, then API Gateway closes the connection. */
  maxConnectionDurationMs: 2 * 60 * 60 * 1000,
  /** "New connections per second per account (across all WebSocket APIs) per Region": 500 by default (adjustable). */
  newConnectionsPerSecond: 500,
} as const;

/** The close code API Gateway (and RFC 6455, "Message Too Big") uses for a frame or message over the limit. */
export const MESSAGE_TOO_BIG_CLOSE_CODE = 1009;

/** Lambda's function configuration and invocation quotas. */
export const LAMBDA_LIMITS = {
  /** "Function timeout": 900 seconds (15 minutes). */
  maxTimeoutSeconds: 900,
  /** "Function memory allocation": 128 MB to 10,240 MB, in 1-MB increments. */
  minMemoryMb: 128,
  /** "Function memory allocation": up to 10,240 MB. */
  maxMemoryMb: 10_240,
  /** "Invocation payload (request and response)": 6 MB each for synchronous invocations (`RequestResponse`). */
  maxSyncPayloadBytes: 6 * MIB,
  /**
   * "Invocation payload" for asynchronous invocations (`Event`): 1 MB. The
   * `Invoke` API reference states 1 MB today ("For asynchronous invocations,
   * the maximum payload size is 1 MB"); it was 256 KB before, and 256 KB
   * remains the limit of the deprecated `InvokeAsync` API only.
   */
  maxAsyncPayloadBytes: 1 * MIB,
} as const;

/** DynamoDB's quotas. */
export const DYNAMODB_LIMITS = {
  /** "Item size": 400 KB, attribute names and values together. */
  maxItemBytes: 400 * KIB,
  /** "Partition key value": at most 2048 bytes (UTF-8), for a table's key and a global secondary index's alike. */
  maxPartitionKeyBytes: 2048,
} as const;
