/**
 * The stream consumer: for each `queued` request in a batch, claim it with a
 * conditional write and hand it to a worker. It never runs a handler itself,
 * so a batch takes milliseconds however long the jobs are (no head-of-line
 * blocking on the shard). A redelivered record, or one whose request the
 * router's direct dispatch already started (`direct-dispatch.ts`), finds the
 * request claimed and is skipped.
 */
import type { StreamerDeps } from './deps';
import { describe } from './describe-error';
import { claimQueuedRequest } from './claim-queued-request';

export interface QueuedRecord {
  /** The stream record's sequence number, reported back on failure. */
  readonly sequenceNumber: string;
  readonly requestId: string;
}

export interface DispatchReport {
  readonly claimed: number;
  readonly skipped: number;
  /** Sequence numbers to retry (`batchItemFailures`). */
  readonly failedSequenceNumbers: string[];
}

export async function claimAndDispatch(deps: StreamerDeps, records: readonly QueuedRecord[]): Promise<DispatchReport> {
  let claimed = 0;
  let skipped = 0;
  const failed: string[] = [];
  await Promise.all(
    records.map(async (record) => {
      let claim;
      try {
        claim = await claimQueuedRequest(deps, record.requestId, { via: 'stream' });
      } catch (error) {
        deps.logger.warn('Claim failed; the record will be retried', { requestId: record.requestId, error: describe(error) });
        failed.push(record.sequenceNumber);
        return;
      }
      if (!claim) {
        // Expected once per request with direct dispatch on (the router's invoke usually claims first),
        // and for every redelivered record.
        skipped++;
        return;
      }
      claimed++;
      const { request, runId } = claim;
      try {
        await deps.dispatcher.dispatch({ type: 'streamer.run', requestId: record.requestId, runId });
      } catch (error) {
        // Give the claim back so the stream offers the request again at once; if even that
        // fails, the dispatch lease expires and the sweeper re-queues it.
        deps.logger.warn('Dispatch failed; releasing the claim', { requestId: record.requestId, error: describe(error) });
        const released = await deps.requests
          .requeue({
            requestId: record.requestId,
            runId,
            now: deps.clock.now(),
            leaseExpiresAt: deps.clock.now() + deps.settings.queueLeaseMs,
            attempts: request.attempts - 1,
          })
          .catch(() => false);
        if (!released) failed.push(record.sequenceNumber);
      }
    }),
  );
  return { claimed, skipped, failedSequenceNumbers: failed };
}
