/**
 * The server → client messages of protocol v1 (see the README's "Wire
 * protocol"). These types are the contract; the client SDK imports them
 * type-only, so the two sides cannot disagree.
 */
import type { WireError } from '../errors';

export type RequestStatus = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';

export const TERMINAL_STATUSES: readonly RequestStatus[] = ['completed', 'failed', 'cancelled'];

export function isTerminalStatus(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface PongMessage {
  readonly id: string;
  readonly type: 'pong';
}

export interface AckMessage {
  readonly id: string;
  readonly type: 'ack';
  readonly requestId: string;
  /** Always `queued`: the request is stored and accepted (its current state follows as progress or its final message). */
  readonly status: 'queued';
  /** Present (true) when a repeated `idempotencyKey` found the request it started earlier: this is that request. */
  readonly deduplicated?: true;
}

export interface ProgressMessage {
  readonly id: string;
  readonly type: 'progress';
  readonly requestId: string;
  readonly progress: number;
  readonly message?: string;
  readonly metadata?: JsonObject;
  /** Set when the update was over the message limit and was cut by the documented rule (metadata dropped, text capped). */
  readonly truncated?: true;
  /**
   * The message's place in the request's progress (1, 2, 3 …, one per
   * message, across retries and continuations): `subscribe` with
   * `afterSeq` replays what came after the last one a client saw.
   */
  readonly seq?: number;
}

/**
 * A result too large for one message (128 KB), delivered by reference: the
 * JSON text of `data` is an object to fetch with a plain HTTP GET (no
 * credentials) before `dataExpiresAt`; `status` and `subscribe` always hand
 * out a fresh URL.
 */
export interface DataReference {
  /** A presigned GET URL of the result's JSON text. */
  readonly dataUrl: string;
  /** Its length in bytes (UTF-8). */
  readonly dataBytes: number;
  /** Its SHA-256, lowercase hex: check it before trusting what was fetched. */
  readonly dataSha256: string;
  /** When `dataUrl` stops working (epoch ms). */
  readonly dataExpiresAt: number;
}

interface ResultEnvelope {
  readonly id: string;
  readonly type: 'result';
  /** Absent on the sync path: nothing was stored. */
  readonly requestId?: string;
  readonly success: true;
  /** The `seq` of the request's last progress message (0: none), so a client can tell whether it missed some. */
  readonly lastSeq?: number;
}

/** A final result: the data itself, or (over the message limit) a {@link DataReference} in its place. */
export type ResultMessage = ResultEnvelope & ({ readonly data: JsonValue } | DataReference);

/** True when the result came by reference and must be fetched. */
export function isDataReference(value: object): value is DataReference {
  return typeof (value as Partial<DataReference>).dataUrl === 'string';
}

export interface ErrorMessage {
  /** `null` when the frame had no usable `id`. */
  readonly id: string | null;
  readonly type: 'error';
  readonly requestId?: string;
  readonly error: WireError;
  /** As on `result`: the `seq` of the request's last progress message (async requests only). */
  readonly lastSeq?: number;
}

/** A request's stored state as `status` returns it. */
export interface RequestView {
  readonly requestId: string;
  readonly action: string;
  readonly status: RequestStatus;
  readonly progress: number;
  readonly message?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly attempts?: number;
  /** A completed request's result; absent when it is too large for a message, and the reference fields say where it is. */
  readonly result?: JsonValue;
  readonly dataUrl?: string;
  readonly dataBytes?: number;
  readonly dataSha256?: string;
  readonly dataExpiresAt?: number;
  readonly error?: WireError;
}

export interface StatusMessage {
  readonly id: string;
  readonly type: 'status';
  readonly request: RequestView;
}

export interface SubscribedMessage {
  readonly id: string;
  readonly type: 'subscribed';
  readonly requestId: string;
}

export interface UnsubscribedMessage {
  readonly id: string;
  readonly type: 'unsubscribed';
  readonly requestId: string;
}

export interface CancelledMessage {
  readonly id: string;
  readonly type: 'cancelled';
  readonly requestId: string;
}

/** The reply to `upload`: PUT exactly `bytes` bytes to `url` before `expiresAt`, then pass `{ uploadId }` in a payload. */
export interface UploadMessage {
  readonly id: string;
  readonly type: 'upload';
  readonly uploadId: string;
  readonly url: string;
  readonly method: 'PUT';
  /** Headers the PUT must carry as given (they are signed). */
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: number;
  readonly expiresAt: number;
}

/** A server-initiated message to a user's or tenant's connections (extension to v1; clients may ignore it). */
export interface BroadcastMessage {
  readonly id: null;
  readonly type: 'broadcast';
  readonly topic: string;
  readonly data: JsonValue;
}

export type ServerMessage =
  | PongMessage
  | AckMessage
  | ProgressMessage
  | ResultMessage
  | ErrorMessage
  | StatusMessage
  | SubscribedMessage
  | UnsubscribedMessage
  | CancelledMessage
  | UploadMessage
  | BroadcastMessage;

/** A message about one request that ends it: exactly one is sent per request. */
export type FinalMessage = ResultMessage | ErrorMessage;

export function resultMessage(id: string, data: JsonValue, requestId?: string): ResultMessage {
  return requestId === undefined
    ? { id, type: 'result', success: true, data }
    : { id, type: 'result', requestId, success: true, data };
}

export function errorMessage(id: string | null, error: WireError, requestId?: string): ErrorMessage {
  return requestId === undefined ? { id, type: 'error', error } : { id, type: 'error', requestId, error };
}
