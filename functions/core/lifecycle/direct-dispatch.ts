/**
 * Direct dispatch: the router starts a request it has just stored `queued`
 * by invoking the worker itself, instead of waiting for the requests stream
 * to deliver the record (a 100 ms poll locally, typically hundreds of ms on
 * AWS). The stream stays the durable safety net and nothing about claiming
 * changes: both paths claim with the same conditional `queued → processing`
 * write, the first wins, the second finds the request claimed and does
 * nothing (a debug line and a `ClaimsLost` count).
 *
 * The event is `streamer.claim`, not `streamer.run`: the worker claims the
 * request itself and runs it in the same invocation. Claiming in the router
 * and then dispatching `streamer.run` would put the claim on the `ack`'s path
 * and leave a claimed request behind whenever the invoke failed (to be given
 * back or swept); claiming in the worker keeps the router's extra work to one
 * invoke and a failed invoke harmless: the request is still `queued`, and the
 * stream starts it.
 */
import type { ClaimRequestEvent } from '../dispatcher';
import { METRICS } from '../metric-names';
import type { StreamerDeps } from './deps';
import { describe } from './describe-error';
import { claimQueuedRequest } from './claim-queued-request';
import { runClaimedRequest } from './run-claimed-request';

/**
 * Called by the router once `requestId` is stored `queued` (never for a
 * repeat of an idempotency key: that request was started when it was
 * stored). Never throws: a failed invoke (throttled, denied, the Lambda API
 * unreachable) is logged and counted, and the stream starts the request.
 */
export async function dispatchDirectly(deps: StreamerDeps, requestId: string): Promise<void> {
  if (!deps.settings.directDispatch) return;
  try {
    await deps.dispatcher.dispatch({ type: 'streamer.claim', requestId });
  } catch (error) {
    const code = error instanceof Error ? error.name : 'Error';
    deps.metrics.add(METRICS.directDispatchFailures, 1, 'Count', { code });
    deps.logger.warn('Direct dispatch failed; the requests stream will start the request', { requestId, error: describe(error) });
  }
}

/**
 * The worker's side of direct dispatch: claim the request and run it here.
 * Only a request that never ran is claimed (`firstRunOnly`): an invoke that
 * Lambda delivered late, after the stream had run the request and queued a
 * retry or a continuation, leaves those to the stream.
 */
export async function claimAndRunDirectly(deps: StreamerDeps, event: ClaimRequestEvent, functionRemainingMs: () => number): Promise<void> {
  const claim = await claimQueuedRequest(deps, event.requestId, { via: 'direct', firstRunOnly: true });
  if (!claim) return;
  // The claim returned the whole item: the run starts from it without reading it again.
  await runClaimedRequest(deps, { type: 'streamer.run', requestId: event.requestId, runId: claim.runId }, functionRemainingMs, claim.request);
}
