/**
 * The one way a request ends: a conditional terminal write by the run that
 * holds it, and only if that write succeeds, the final message to the
 * request's audience. A run that lost its lease writes and sends nothing,
 * so there is exactly one terminal state and one final message.
 */
import type { WireError } from '../errors';
import type { JsonValue } from '../protocol/messages';
import type { RequestRecord } from '../stores/records';
import type { StreamerDeps } from './deps';
import { sendFinalToAudience } from './request-audience';
import { METRICS } from '../metric-names';

export interface Ending {
  readonly status: 'completed' | 'failed' | 'cancelled';
  readonly result?: JsonValue;
  readonly error?: WireError;
  /** The `seq` of the run's last progress message. */
  readonly progressSeq?: number;
}

export async function finishRequest(deps: StreamerDeps, request: RequestRecord, runId: string, ending: Ending): Promise<boolean> {
  const now = deps.clock.now();
  const written = await deps.requests.finish({ requestId: request.request_id, runId, now, ...ending });
  if (!written) return false;
  const { progressSeq, ...outcome } = ending;
  const ended: RequestRecord = { ...request, ...outcome, ...(progressSeq !== undefined && { progress_seq: progressSeq }), progress: ending.status === 'completed' ? 1 : request.progress, updated_at: now, completed_at: now };
  await sendFinalToAudience(deps, ended);
  deps.logger.info('Request ended', { requestId: request.request_id, status: ending.status, ...(ending.error && { code: ending.error.code }) });
  if (ending.status === 'failed') {
    deps.metrics.add(METRICS.failures, 1, 'Count', { action: request.action, code: ending.error?.code ?? 'INTERNAL_ERROR' });
  }
  return true;
}
