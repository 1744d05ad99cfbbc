/** What the request hooks report about one request, and how a server update changes it. */
import { StreamerError, type JsonObject, type ProgressMessage, type RequestView } from '@streamer/client';

/**
 * Where a request stands, as a hook sees it:
 *
 * - `idle`: nothing started (or no request id given)
 * - `sending`: `start` was called; no `ack` or result yet
 * - `loading`: watching a request by id; its state has not arrived yet
 * - `queued`, `processing`, `completed`, `failed`, `cancelled`: the server's statuses
 *
 * @example
 * const busy = state === 'sending' || state === 'queued' || state === 'processing';
 */
export type RequestState = 'idle' | 'sending' | 'loading' | 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';

/**
 * One request's live state.
 *
 * @example
 * const { state, progress, message, data, error } = useRequestStatus(requestId);
 */
export interface RequestSnapshot<Result = unknown> {
  readonly state: RequestState;
  /** The server's id, once known (after the `ack`; never for a sync request). */
  readonly requestId?: string;
  /** 0..1, never decreasing; 1 once completed. */
  readonly progress: number;
  /** The latest progress message. */
  readonly message?: string;
  /** The latest progress metadata. */
  readonly metadata?: JsonObject;
  /** The result, once `completed`. */
  readonly data?: Result;
  /** Why it ended, once `failed` or `cancelled` (or why it could not be watched). */
  readonly error?: StreamerError;
}

export const IDLE: RequestSnapshot<never> = Object.freeze({ state: 'idle', progress: 0 });

export function isFinished(snapshot: RequestSnapshot<unknown>): boolean {
  return snapshot.state === 'completed' || snapshot.state === 'failed' || snapshot.state === 'cancelled';
}

/** A progress update: never lowers progress, never reopens a finished request. */
export function withProgress<R>(snapshot: RequestSnapshot<R>, update: ProgressMessage): RequestSnapshot<R> {
  if (isFinished(snapshot)) return snapshot;
  return {
    ...snapshot,
    state: 'processing',
    requestId: update.requestId,
    progress: Math.max(snapshot.progress, update.progress),
    message: update.message ?? snapshot.message,
    metadata: update.metadata ?? snapshot.metadata,
  };
}

export function completed<R>(snapshot: RequestSnapshot<R>, data: R): RequestSnapshot<R> {
  if (isFinished(snapshot)) return snapshot;
  return { ...snapshot, state: 'completed', progress: 1, data };
}

export function ended<R>(snapshot: RequestSnapshot<R>, error: unknown): RequestSnapshot<R> {
  if (isFinished(snapshot)) return snapshot;
  const failure = error instanceof StreamerError ? error : new StreamerError('INTERNAL_ERROR', String(error), { cause: error });
  return { ...snapshot, state: failure.code === 'CANCELLED' ? 'cancelled' : 'failed', error: failure };
}

/** The stored state from `status`: it may be older than updates already seen, so progress only grows. */
export function withView<R>(snapshot: RequestSnapshot<R>, view: RequestView): RequestSnapshot<R> {
  if (isFinished(snapshot)) return snapshot;
  const base: RequestSnapshot<R> = {
    ...snapshot,
    requestId: view.requestId,
    progress: Math.max(snapshot.progress, view.progress),
    message: snapshot.state === 'processing' ? snapshot.message : (view.message ?? snapshot.message),
  };
  switch (view.status) {
    case 'completed':
      return completed(base, view.result as R);
    case 'failed':
    case 'cancelled':
      return ended(base, view.error ? StreamerError.fromWire(view.error) : new StreamerError(view.status === 'cancelled' ? 'CANCELLED' : 'INTERNAL_ERROR', `The request ${view.status}`));
    case 'processing':
      return { ...base, state: 'processing' };
    case 'queued':
      return snapshot.state === 'processing' ? base : { ...base, state: 'queued' };
  }
}
