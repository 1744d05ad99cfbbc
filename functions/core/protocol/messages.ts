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
  /**
   * The message's place in the request's progress (1, 2, 3 …, one per
   * message, across retries and continuations): `subscribe` with
   * `afterSeq` replays what came after the last one a client saw.
   */
  readonly seq?: number;
}

export interface ResultMessage {
  readonly id: string;
  readonly type: 'result';
  /** Absent on the sync path: nothing was stored. */
  readonly requestId?: string;
  readonly success: true;
  readonly data: JsonValue;
  /** The `seq` of the request's last progress message (0: none), so a client can tell whether it missed some. */
  readonly lastSeq?: number;
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
  readonly result?: JsonValue;
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
