/** `useRequest(action)`: start an action from a component and render its live state. */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ActionMap, AnyActions } from '@streamer/client';
import { useStreamerContext } from './provider';
import { completed, ended, IDLE, type RequestSnapshot, withProgress } from './request-snapshot';

/**
 * Options of one `start` call.
 *
 * @example
 * start({ rows: 100 }, { timeoutMs: 60_000 });
 */
export interface StartOptions {
  /** Fails the request with `TIMEOUT` (and cancels it on the server) when no result came in time. */
  readonly timeoutMs?: number;
}

/**
 * What {@link useRequest} returns: the latest request's snapshot, and the
 * functions that start and cancel it.
 *
 * @example
 * const { start, state, progress, message, data, error, cancel } = useRequest('generate_report');
 */
export interface UseRequestResult<Payload, Result> extends RequestSnapshot<Result> {
  /**
   * Sends the request; the snapshot follows it from `sending` to its end.
   * The returned promise settles with the result (or rejects with its
   * `StreamerError`); ignoring it is safe. Starting again shows the new
   * request; the earlier one keeps running unless cancelled.
   */
  start(payload: Payload, options?: StartOptions): Promise<Result>;
  /** Cancels the latest request (on the server too, once it was accepted). */
  cancel(): void;
}

interface Run {
  readonly controller: AbortController;
}

/**
 * Runs `action` on demand. Nothing is sent until `start` is called, so React
 * StrictMode's double effects never send a request twice. Unmounting stops
 * the updates but not the request: it keeps running on the server (watch it
 * again with `useRequestStatus(requestId)`); only `cancel()` stops it.
 *
 * @typeParam A - the client's action map (use `createStreamerHooks<A>()` to bind it once)
 *
 * @example
 * const report = useRequest('generate_report');
 * <button onClick={() => report.start({ rows: 1000 })}>Run</button>
 * <progress value={report.progress} /> {report.message}
 */
export function useRequest<A extends ActionMap<A> = AnyActions, K extends keyof A & string = keyof A & string>(
  action: K,
): UseRequestResult<A[K]['payload'], A[K]['result']> {
  const { client } = useStreamerContext();
  const [snapshot, setSnapshot] = useState<RequestSnapshot<A[K]['result']>>(IDLE);
  const latest = useRef<Run | null>(null);
  const mounted = useRef(false);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const start = useCallback(
    (payload: A[K]['payload'], options: StartOptions = {}): Promise<A[K]['result']> => {
      const run: Run = { controller: new AbortController() };
      latest.current = run;
      // Only the latest run of a mounted component may change what it shows.
      const update = (next: (s: RequestSnapshot<A[K]['result']>) => RequestSnapshot<A[K]['result']>): void => {
        if (mounted.current && latest.current === run) setSnapshot(next);
      };
      setSnapshot({ state: 'sending', progress: 0 });
      const result = client.request(action, payload as Record<string, unknown>, {
        signal: run.controller.signal,
        timeoutMs: options.timeoutMs,
        onAccepted: (requestId) => update((s) => (s.state === 'sending' ? { ...s, state: 'queued', requestId } : { ...s, requestId })),
        onProgress: (progress) => update((s) => withProgress(s, progress)),
      }) as Promise<A[K]['result']>;
      result.then(
        (data) => update((s) => completed(s, data)),
        (error: unknown) => update((s) => ended(s, error)),
      );
      return result;
    },
    [client, action],
  );

  const cancel = useCallback((): void => {
    latest.current?.controller.abort();
  }, []);

  return { ...snapshot, start, cancel };
}
