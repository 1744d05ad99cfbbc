/**
 * The worker: runs one claimed request to an outcome. It holds the lease
 * while the handler runs, streams batched progress to the request's
 * audience, and ends the request exactly once: completed, failed, cancelled,
 * or back in the queue (a retry after backoff, or a continuation).
 */
import { StreamerError, toStreamerError } from '../errors';
import type { AnyHandler } from '../handlers/define-handler';
import { validatePayload } from '../handlers/validate-payload';
import type { Identity } from '../identity';
import type { RunRequestEvent } from '../dispatcher';
import { ProgressBatcher } from '../progress/progress-batcher';
import type { RequestRecord } from '../stores/records';
import type { Subscriber } from '../stores/subscription-store';
import type { StreamerDeps } from './deps';
import { broadcast } from './broadcast';
import { executeHandler } from './execute-handler';
import { uploadReader } from '../handlers/uploads';
import { finishRequest } from './finish-request';
import { audienceOf, progressMessageFor, sendToAudience } from './request-audience';
import { retryDelayMs } from './retry-policy';
import { describe } from './describe-error';
import { LeaseLostError, RunLease } from './run-lease';
import { METRICS } from '../metric-names';
import { ProgressNumbering } from './progress-numbering';

/** Time kept back from the function's budget to store the outcome after a handler times out. */
export const FINISH_RESERVE_MS = 5000;
/** How long a handler may ignore its aborted signal before the run gives up on it. */
export const ABORT_GRACE_MS = 2000;
/** A request may continue this many times (a day of 15-minute runs) before it fails. */
export const MAX_CONTINUATIONS = 96;

/**
 * `claimed`: the item the claim itself returned, when the claim happened in
 * this invocation (direct dispatch); otherwise the run reads it (consistently).
 */
export async function runClaimedRequest(
  deps: StreamerDeps,
  event: RunRequestEvent,
  functionRemainingMs: () => number,
  claimed?: RequestRecord,
): Promise<void> {
  const request = claimed ?? (await deps.requests.get(event.requestId, true));
  if (!request || request.status !== 'processing' || request.run_id !== event.runId) {
    deps.logger.info('Run skipped: the request is no longer held by this run', { requestId: event.requestId });
    return;
  }
  deps.logger.appendKeys({
    requestId: request.request_id,
    action: request.action,
    tenantId: request.tenant_id,
    userId: request.user_id,
    connectionId: request.connection_id,
    attempt: request.attempts,
  });
  const fail = (error: StreamerError) => finishRequest(deps, request, event.runId, { status: 'failed', error: error.toWire() });

  let handler: AnyHandler;
  try {
    handler = deps.registry.require(request.action);
  } catch (error) {
    await fail(toStreamerError(error));
    return;
  }
  const identity: Identity = { userId: request.user_id, tenantId: request.tenant_id, permissions: [] };

  // Subscribers are re-read only when a subscribe or unsubscribe bumped the request's version
  // (the lease's reads and renewals report it), not on a timer.
  let audience: Subscriber[] = await audienceOf(deps, request);
  let audienceVersion = request.subscription_version ?? 0;
  let latestVersion = audienceVersion;
  const numbering = new ProgressNumbering(deps, request, handler.progressLog ?? true);
  const batcher = new ProgressBatcher(async (update) => {
    if (latestVersion !== audienceVersion) {
      audienceVersion = latestVersion;
      audience = await audienceOf(deps, request, true);
    }
    const seq = numbering.next();
    // Logged beside the send, not before it: live progress waits for no write, and a client
    // that missed a message asks for it again by seq (subscribe with afterSeq).
    const [, sent] = await Promise.all([numbering.log(seq, update), sendToAudience(deps, audience, progressMessageFor(request.request_id, update, seq))]);
    deps.metrics.add(METRICS.progressSent, sent, 'Count', { action: request.action });
  });
  const lease = new RunLease(deps, request.request_id, event.runId, {
    currentProgress: () => batcher.current,
    onSubscriptionVersion: (version) => (latestVersion = version),
  });
  lease.start();

  try {
    if (request.not_before !== undefined && request.not_before > deps.clock.now()) {
      await deps.clock.sleep(request.not_before - deps.clock.now(), lease.signal);
    }
    let payload: unknown;
    try {
      payload = await validatePayload(handler, request.payload, identity);
    } catch (error) {
      lease.stop();
      await fail(toStreamerError(error));
      return;
    }
    await numbering.start();
    const startedAt = deps.clock.now();
    const outcome = lease.signal.aborted
      ? { kind: 'error' as const, error: toStreamerError(lease.signal.reason) }
      : await executeHandler({
          handler,
          payload,
          identity,
          progress: batcher,
          requestId: request.request_id,
          attempt: request.attempts,
          checkpoint: request.checkpoint,
          budgetMs: Math.min(handler.timeoutMs ?? Number.MAX_SAFE_INTEGER, functionRemainingMs() - FINISH_RESERVE_MS),
          externalSignal: lease.signal,
          abortGraceMs: ABORT_GRACE_MS,
          now: deps.clock.now,
          broadcast: async (scope, topic, data) => (await broadcast(deps, identity, scope, topic, data)).delivered,
          uploads: uploadReader(deps.objects, identity),
        });
    lease.stop();
    deps.metrics.add(METRICS.handlerDuration, deps.clock.now() - startedAt, 'Milliseconds', { action: request.action });

    if (outcome.kind === 'result') {
      await batcher.close();
      await finishRequest(deps, request, event.runId, { status: 'completed', result: outcome.data, progressSeq: numbering.last });
      return;
    }
    if (outcome.kind === 'continuation') {
      await batcher.close();
      await continueLater(deps, request, event.runId, outcome.state, batcher.current.progress, numbering.last);
      return;
    }
    await batcher.discard();
    await endInError(deps, request, event.runId, outcome.error, numbering.last);
  } catch (error) {
    // Store failures while ending: the lease expires and the sweeper retries from the stored state.
    deps.logger.error('Run ended without storing its outcome; the lease sweeper will recover it', {
      requestId: request.request_id,
      error: describe(error),
    });
  } finally {
    lease.stop();
    await batcher.discard();
  }
}

async function endInError(deps: StreamerDeps, request: RequestRecord, runId: string, error: StreamerError, progressSeq: number): Promise<void> {
  if (error instanceof LeaseLostError) {
    deps.logger.warn('Run stopped: another run holds the request now', { requestId: request.request_id });
    return;
  }
  if (error.code === 'CANCELLED') {
    await finishRequest(deps, request, runId, { status: 'cancelled', error: error.toWire(), progressSeq });
    return;
  }
  if (error.retryable && request.attempts <= request.max_retries) {
    const now = deps.clock.now();
    const delay = retryDelayMs(request.attempts, Math.random, error.retryAfterMs);
    const requeued = await deps.requests.requeue({
      requestId: request.request_id,
      runId,
      now,
      leaseExpiresAt: now + delay + deps.settings.queueLeaseMs,
      notBefore: now + delay,
      lastError: error.toWire(),
      progressSeq,
    });
    if (requeued) {
      deps.metrics.add(METRICS.retries, 1, 'Count', { action: request.action, code: error.code });
      deps.logger.info('Retrying after a retryable failure', { requestId: request.request_id, attempt: request.attempts, delayMs: delay, code: error.code });
    }
    return;
  }
  await finishRequest(deps, request, runId, { status: 'failed', error: error.toWire(), progressSeq });
}

async function continueLater(deps: StreamerDeps, request: RequestRecord, runId: string, state: unknown, progress: number, progressSeq: number): Promise<void> {
  const continuations = (request.continuations ?? 0) + 1;
  if (continuations > MAX_CONTINUATIONS) {
    await finishRequest(deps, request, runId, {
      status: 'failed',
      progressSeq,
      error: new StreamerError('TIMEOUT', `The request continued ${MAX_CONTINUATIONS} times without finishing`, { retryable: false }).toWire(),
    });
    return;
  }
  const now = deps.clock.now();
  await deps.requests.requeue({
    requestId: request.request_id,
    runId,
    now,
    leaseExpiresAt: now + deps.settings.queueLeaseMs,
    // A continuation is progress, not a failure: it does not use up a retry.
    attempts: request.attempts - 1,
    checkpoint: state as RequestRecord['checkpoint'],
    continuations,
    progressSeq,
  });
  deps.logger.info('Request continues in a new run', { requestId: request.request_id, continuations, progress });
}
