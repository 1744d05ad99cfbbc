/**
 * The one way a request ends: a conditional terminal write by the run that
 * holds it, and only if that write succeeds, the final message to the
 * request's audience. A run that lost its lease writes and sends nothing,
 * so there is exactly one terminal state and one final message.
 *
 * A result too large for a message (and so for a safe share of the 400 KB
 * item) is stored in the results bucket first; the request keeps where it
 * is, and every message about it carries a fresh URL instead of the data.
 */
import type { WireError } from '../errors';
import type { JsonValue } from '../protocol/messages';
import type { RequestRecord } from '../stores/records';
import type { StreamerDeps } from './deps';
import { sendFinalToAudience } from './request-audience';
import { METRICS } from '../metric-names';
import { INLINE_RESULT_MAX_BYTES } from '../large-results/inline-budget';
import { encodeResult, storeResult, type StoredResultObject } from '../large-results/result-objects';

export interface Ending {
  readonly status: 'completed' | 'failed' | 'cancelled';
  readonly result?: JsonValue;
  readonly error?: WireError;
  /** The `seq` of the run's last progress message. */
  readonly progressSeq?: number;
}

/** Stores a result over the inline budget; `undefined` when it is kept in the item. */
async function storeIfLarge(deps: StreamerDeps, ending: Ending): Promise<StoredResultObject | undefined> {
  if (ending.status !== 'completed' || ending.result === undefined) return undefined;
  const encoded = encodeResult(ending.result);
  return encoded.body.length <= INLINE_RESULT_MAX_BYTES ? undefined : storeResult(deps.objects, encoded);
}

export async function finishRequest(deps: StreamerDeps, request: RequestRecord, runId: string, ending: Ending): Promise<boolean> {
  const now = deps.clock.now();
  const resultObject = await storeIfLarge(deps, ending);
  // A stored result leaves the item: only where it is goes in.
  const { result: _inline, ...withoutResult } = ending;
  const stored: Ending = resultObject ? withoutResult : ending;
  const written = await deps.requests.finish({ requestId: request.request_id, runId, now, ...stored, ...(resultObject && { resultObject }) });
  if (!written) return false;
  const { progressSeq, ...outcome } = stored;
  const ended: RequestRecord = {
    ...request,
    ...outcome,
    ...(resultObject && { result_object: resultObject }),
    ...(progressSeq !== undefined && { progress_seq: progressSeq }),
    progress: ending.status === 'completed' ? 1 : request.progress,
    updated_at: now,
    completed_at: now,
  };
  await sendFinalToAudience(deps, ended);
  deps.logger.info('Request ended', {
    requestId: request.request_id,
    status: ending.status,
    ...(ending.error && { code: ending.error.code }),
    ...(resultObject && { resultBytes: resultObject.bytes }),
  });
  if (ending.status === 'failed') {
    deps.metrics.add(METRICS.failures, 1, 'Count', { action: request.action, code: ending.error?.code ?? 'INTERNAL_ERROR' });
  }
  return true;
}
