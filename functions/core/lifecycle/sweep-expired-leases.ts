/**
 * Recovers requests whose lease expired: a run that died (process killed,
 * Lambda timeout, lost dispatch) goes back to the queue from its stored
 * state, or ends if it used up its retries or was cancelled; a queued
 * request nobody claimed is offered to the stream again. Runs on a schedule.
 */
import { StreamerError } from '../errors';
import type { StreamerDeps } from './deps';
import { finishRequest } from './finish-request';
import { retryDelayMs } from './retry-policy';
import { describe } from './describe-error';
import { METRICS } from '../metric-names';

export interface SweepReport {
  readonly requeued: number;
  readonly reoffered: number;
  readonly ended: number;
}

export async function sweepExpiredLeases(deps: StreamerDeps, limit = 200): Promise<SweepReport> {
  const now = deps.clock.now();
  const expired = await deps.requests.findExpiredLeases(now, limit);
  let requeued = 0;
  let reoffered = 0;
  let ended = 0;
  for (const { requestId } of expired) {
    try {
      const request = await deps.requests.get(requestId, true);
      if (!request || request.lease_expires_at === undefined || request.lease_expires_at >= now) continue;
      if (request.status === 'queued') {
        if (await deps.requests.requeue({ requestId, now, leaseExpiresAt: now + deps.settings.queueLeaseMs, leaseExpiredBefore: now })) reoffered++;
        continue;
      }
      if (request.status !== 'processing' || request.run_id === undefined) continue;
      if (request.cancel_requested) {
        const error = new StreamerError('CANCELLED', 'Cancelled by the client').toWire();
        if (await finishRequest(deps, request, request.run_id, { status: 'cancelled', error })) ended++;
        continue;
      }
      const lost = new StreamerError('TIMEOUT', 'The run stopped responding (crashed or timed out)');
      if (request.attempts > request.max_retries) {
        if (await finishRequest(deps, request, request.run_id, { status: 'failed', error: lost.toWire() })) ended++;
        continue;
      }
      const delay = retryDelayMs(request.attempts);
      const ok = await deps.requests.requeue({
        requestId,
        runId: request.run_id,
        now,
        leaseExpiresAt: now + delay + deps.settings.queueLeaseMs,
        notBefore: now + delay,
        lastError: lost.toWire(),
        leaseExpiredBefore: now,
      });
      if (ok) {
        requeued++;
        deps.metrics.add(METRICS.retries, 1, 'Count', { action: request.action, code: lost.code });
      }
    } catch (error) {
      deps.logger.warn('Sweeping a lease failed; the next sweep tries again', { requestId, error: describe(error) });
    }
  }
  if (requeued + reoffered + ended > 0) deps.logger.info('Swept expired leases', { requeued, reoffered, ended });
  return { requeued, reoffered, ended };
}
