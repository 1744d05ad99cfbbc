/**
 * The processor has four callers: the requests stream (claim queued
 * requests and dispatch them), itself invoked asynchronously (run one
 * claimed request), the router invoking it asynchronously (direct dispatch:
 * claim one request it just stored, and run it), and the sweep schedule
 * (recover expired leases).
 */
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { isClaimRequestEvent, isRunRequestEvent, lambdaWorkDispatcher, type WorkerEvent } from '../core/dispatcher';
import { claimAndDispatch, type QueuedRecord } from '../core/lifecycle/claim-and-dispatch';
import { claimAndRunDirectly } from '../core/lifecycle/direct-dispatch';
import { describe } from '../core/lifecycle/describe-error';
import { runClaimedRequest } from '../core/lifecycle/run-claimed-request';
import { sweepExpiredLeases } from '../core/lifecycle/sweep-expired-leases';
import { s3ObjectStore } from '../core/stores/object-store';
import { registry } from '../handlers';
import { logger, streamerDeps as sharedDeps, withObservability } from '../streamer-runtime';

const streamerDeps = () => sharedDeps('processor', { registry, dispatcher: lambdaWorkDispatcher, objectStore: s3ObjectStore });

type ProcessorEvent = DynamoDBStreamEvent | WorkerEvent | ScheduledEvent;

function isScheduledEvent(event: ProcessorEvent): event is ScheduledEvent {
  return (event as ScheduledEvent).source === 'aws.events';
}

/** Which of the callers this invocation serves, for the logs. */
function triggerOf(event: ProcessorEvent): 'run' | 'claim' | 'sweep' | 'stream' {
  if (isRunRequestEvent(event)) return 'run';
  if (isClaimRequestEvent(event)) return 'claim';
  return isScheduledEvent(event) ? 'sweep' : 'stream';
}

/** The queued request a stream record announces, or undefined for anything else. */
function queuedRecord(record: DynamoDBRecord): QueuedRecord | undefined {
  const image = record.dynamodb?.NewImage;
  const requestId = image?.request_id?.S;
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  if (!requestId || !sequenceNumber || image?.status?.S !== 'queued') return undefined;
  return { requestId, sequenceNumber };
}

export const handler = withObservability(async (event: ProcessorEvent, context: Context): Promise<DynamoDBBatchResponse | void> => {
  if (isRunRequestEvent(event)) {
    await runClaimedRequest(streamerDeps(), event, () => context.getRemainingTimeInMillis());
    return;
  }
  if (isClaimRequestEvent(event)) {
    await claimAndRunDirectly(streamerDeps(), event, () => context.getRemainingTimeInMillis());
    return;
  }
  if (isScheduledEvent(event)) {
    await sweepExpiredLeases(streamerDeps());
    return;
  }
  const records = (event.Records ?? []).map(queuedRecord).filter((r): r is QueuedRecord => r !== undefined);
  try {
    const report = await claimAndDispatch(streamerDeps(), records);
    return { batchItemFailures: report.failedSequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })) };
  } catch (error) {
    logger.error('Stream batch failed; retrying every record', { error: describe(error), records: records.length });
    return { batchItemFailures: records.map((r) => ({ itemIdentifier: r.sequenceNumber })) };
  }
}, { keys: (event) => ({ trigger: triggerOf(event) }) });
