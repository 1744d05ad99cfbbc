/**
 * Claiming a `queued` request for a run: the one conditional write both
 * starters use, the stream consumer (`claim-and-dispatch.ts`) and the
 * router's direct dispatch (`direct-dispatch.ts`). Whoever claims first
 * wins; the other finds the request claimed (or cancelled, or ended) and
 * does nothing. Both outcomes are counted by path (`via`): a lost claim is a
 * failed conditional write, which DynamoDB bills.
 */
import { METRICS } from '../metric-names';
import type { RequestRecord } from '../stores/records';
import type { StreamerDeps } from './deps';

export interface ClaimedRun {
  /** The item as the claim left it (`processing`, this run's lease). */
  readonly request: RequestRecord;
  readonly runId: string;
}

export interface ClaimOptions {
  /** Which starter claims, for the metrics and the log. */
  readonly via: 'stream' | 'direct';
  /** Claim only a request that never ran (see `ClaimInput.firstRunOnly`). */
  readonly firstRunOnly?: boolean;
}

/** The claimed run, or `undefined` when another claim (or a cancel, or the end) came first. A failed write throws. */
export async function claimQueuedRequest(deps: StreamerDeps, requestId: string, options: ClaimOptions): Promise<ClaimedRun | undefined> {
  const now = deps.clock.now();
  const runId = deps.newId();
  const request = await deps.requests.claim({
    requestId,
    runId,
    now,
    // The worker must start and renew within one lease. If Lambda's async queue delays it longer,
    // the sweeper re-queues the request and the late worker finds another run_id and does nothing.
    leaseExpiresAt: now + deps.settings.leaseMs,
    ...(options.firstRunOnly && { firstRunOnly: true }),
  });
  if (!request) {
    deps.metrics.add(METRICS.claimsLost, 1, 'Count', { via: options.via });
    deps.logger.debug('Claim skipped: the request was already claimed, cancelled or ended', { requestId, via: options.via });
    return undefined;
  }
  deps.metrics.add(METRICS.queueWait, Math.max(0, now - request.created_at), 'Milliseconds', { action: request.action, via: options.via });
  return { request, runId };
}
