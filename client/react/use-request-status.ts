/** `useRequestStatus(requestId)`: follow a request by id, e.g. after a page reload. */
import { useCallback, useEffect, useState } from 'react';
import { useStreamerContext } from './provider';
import { IDLE, type RequestSnapshot } from './request-snapshot';

/**
 * What {@link useRequestStatus} returns.
 *
 * @example
 * const { state, progress, data, cancel } = useRequestStatus<{ summary: string }>(requestId);
 */
export interface UseRequestStatusResult<Result> extends RequestSnapshot<Result> {
  /** Cancels the request on the server; its state becomes `cancelled` when the server confirms. */
  cancel(): Promise<void>;
}

/**
 * Follows a request by its id, wherever it was started (this page before a
 * reload, another tab, another device of the same user): subscribes, reads
 * its current state, then applies live updates until it ends. `undefined`
 * watches nothing (`idle`). Every component watching one request shares one
 * subscription; the last one to unmount unsubscribes. Unmounting never
 * cancels the request.
 *
 * @example
 * const requestId = new URLSearchParams(location.search).get('job') ?? undefined;
 * const job = useRequestStatus<{ summary: string }>(requestId);
 * if (job.state === 'completed') return <p>{job.data?.summary}</p>;
 */
export function useRequestStatus<Result = unknown>(requestId: string | undefined): UseRequestStatusResult<Result> {
  const { client, watchers } = useStreamerContext();
  const [snapshot, setSnapshot] = useState<RequestSnapshot<Result>>(IDLE);

  useEffect(() => {
    if (requestId === undefined) {
      setSnapshot(IDLE);
      return undefined;
    }
    return watchers.watch(requestId, (next) => setSnapshot(next as RequestSnapshot<Result>));
  }, [watchers, requestId]);

  const cancel = useCallback(async (): Promise<void> => {
    if (requestId !== undefined) await client.cancel(requestId);
  }, [client, requestId]);

  // Until the effect ran for a new id, show that id as loading rather than the previous request.
  const current = requestId === undefined || snapshot.requestId === requestId ? snapshot : { state: 'loading' as const, requestId, progress: 0 };
  return { ...current, cancel };
}
