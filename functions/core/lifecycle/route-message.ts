/**
 * One client frame in, its reply out: parse the envelope, check the caller,
 * then either answer a built-in action, run a quick handler inline (sync
 * path) or store a queued request and acknowledge it (async path). Nothing a
 * client sends escapes as an exception: every failure becomes an `error`
 * reply and the connection stays open.
 *
 * The caller's identity comes with the event (the `$connect` authorizer's
 * context, which API Gateway attaches to every frame), so routing a frame
 * reads nothing to know who sent it.
 *
 * The reply is returned, not posted: the router hands it back as the
 * `$default` route response, so a sync request costs no `PostToConnection`.
 * A built-in action that answers with several messages (`subscribe` to an
 * ended request) posts all but the last, which is returned: a route response
 * leaves after the invocation, so it is the only place that keeps the order.
 */
import { StreamerError, toStreamerError } from '../errors';
import type { ProgressReporter } from '../handlers/define-handler';
import { requirePermissions, shouldQueue, validatePayload } from '../handlers/validate-payload';
import type { Identity } from '../identity';
import { isBuiltInAction, parseClientFrame, type ClientEnvelope } from '../protocol/envelope';
import { errorMessage, resultMessage, type ServerMessage } from '../protocol/messages';
import { epochSeconds } from '../clock';
import { tenantKey, tenantUserKey } from '../identity-key';
import { leaseShardFor } from '../stores/request-store';
import { handleBuiltInAction } from './built-in-actions';
import { describe } from './describe-error';
import type { StreamerDeps } from './deps';
import { broadcast } from './broadcast';
import { executeHandler } from './execute-handler';
import { uploadReader } from '../handlers/uploads';
import { acceptIdempotentRequest } from './idempotent-request';
import { dispatchDirectly } from './direct-dispatch';
import type { RequestRecord } from '../stores/records';
import { METRICS } from '../metric-names';

export interface IncomingFrame {
  readonly connectionId: string;
  /**
   * The caller, as the `$connect` authorizer verified it (the event's
   * `requestContext.authorizer`); absent for a connection opened before the
   * route had the authorizer, whose identity is then read from its record.
   */
  readonly identity?: Identity;
  readonly body: string | undefined | null;
  readonly isBase64Encoded?: boolean;
  /** What the function has left; bounds a sync handler's budget. */
  readonly remainingTimeMs: number;
}

/** The sync path sends one final message, so progress reports go nowhere. */
const discardProgress: ProgressReporter = { report: () => undefined };

/** Time kept back from the function's budget to send the reply after a sync handler times out. */
const SYNC_REPLY_RESERVE_MS = 1000;

/** The frame's reply, to return as the route response; `undefined` when everything was sent already. */
export async function routeMessage(deps: StreamerDeps, frame: IncomingFrame): Promise<ServerMessage | undefined> {
  const text = frame.isBase64Encoded && typeof frame.body === 'string' ? Buffer.from(frame.body, 'base64').toString('utf8') : frame.body;
  const parsed = parseClientFrame(text);
  if (!parsed.ok) return errorMessage(parsed.id, parsed.error.toWire());
  const envelope = parsed.envelope;
  deps.logger.appendKeys({ action: envelope.action, clientId: envelope.id });
  try {
    const identity = frame.identity ?? (await storedIdentityOf(deps, frame.connectionId));
    deps.logger.appendKeys({ tenantId: identity.tenantId, userId: identity.userId });
    const limit = await deps.rateLimiter.take(
      [
        { scope: 'connection', key: frame.connectionId },
        { scope: 'user', key: tenantUserKey(identity.tenantId, identity.userId) },
        { scope: 'tenant', key: tenantKey(identity.tenantId) },
      ],
      deps.clock.now(),
    );
    if (!limit.allowed) {
      throw new StreamerError('RATE_LIMITED', `Too many requests for this ${limit.scope}; retry after ${limit.retryAfterMs} ms`, {
        retryAfterMs: limit.retryAfterMs,
        details: { scope: limit.scope },
      });
    }
    if (isBuiltInAction(envelope.action)) {
      const replies = await handleBuiltInAction(deps, envelope, identity, frame.connectionId);
      return await lastOfInOrder(deps, frame.connectionId, Array.isArray(replies) ? replies : [replies]);
    }
    return await lastOfInOrder(deps, frame.connectionId, await runAction(deps, envelope, identity, frame));
  } catch (error) {
    const failure = toStreamerError(error);
    if (failure.code === 'INTERNAL_ERROR') {
      deps.logger.error('Request failed', { clientId: envelope.id, action: envelope.action, connectionId: frame.connectionId, error: describe(error) });
    }
    return errorMessage(envelope.id, failure.toWire());
  }
}

/** Posts every message but the last, in order, and returns the last (the route response, which arrives after them). */
async function lastOfInOrder(deps: StreamerDeps, connectionId: string, replies: readonly ServerMessage[]): Promise<ServerMessage | undefined> {
  for (const message of replies.slice(0, -1)) await deps.notifier.send(connectionId, message);
  return replies.at(-1);
}

/** The identity in the connection record (cached per router instance): only for connections without an authorizer context. */
async function storedIdentityOf(deps: StreamerDeps, connectionId: string): Promise<Identity> {
  const connection = await deps.connections.get(connectionId);
  if (!connection) throw new StreamerError('UNAUTHORIZED', 'This connection is not registered; reconnect with a valid token');
  return { userId: connection.user_id, tenantId: connection.tenant_id, permissions: connection.permissions ?? [] };
}

async function runAction(deps: StreamerDeps, envelope: ClientEnvelope, identity: Identity, frame: IncomingFrame): Promise<ServerMessage[]> {
  const handler = deps.registry.require(envelope.action);
  requirePermissions(handler, identity);
  const payload = await validatePayload(handler, envelope.payload, identity);
  const queued = shouldQueue(handler, payload, deps.settings.syncThresholdMs);
  deps.metrics.add(METRICS.requests, 1, 'Count', { action: handler.name, path: queued ? 'async' : 'sync' });

  if (!queued) {
    deps.logger.info('Request accepted', { path: 'sync' });
    const startedAt = deps.clock.now();
    const outcome = await executeHandler({
      handler,
      payload,
      identity,
      progress: discardProgress,
      attempt: 1,
      budgetMs: Math.min(handler.timeoutMs ?? Number.MAX_SAFE_INTEGER, frame.remainingTimeMs - SYNC_REPLY_RESERVE_MS),
      now: deps.clock.now,
      broadcast: async (scope, topic, data) => (await broadcast(deps, identity, scope, topic, data)).delivered,
      uploads: uploadReader(deps.objects, identity),
    });
    deps.metrics.add(METRICS.handlerDuration, deps.clock.now() - startedAt, 'Milliseconds', { action: handler.name });
    // Nothing is stored on the sync path, so an idempotency key changes nothing here: a repeat runs again.
    if (outcome.kind === 'result') return [resultMessage(envelope.id, outcome.data)];
    if (outcome.kind === 'continuation') {
      throw new StreamerError('INTERNAL_ERROR', `Handler "${handler.name}" asked to continue, which only queued (async) requests can`, { retryable: false });
    }
    deps.metrics.add(METRICS.failures, 1, 'Count', { action: handler.name, code: outcome.error.code });
    throw outcome.error;
  }

  const now = deps.clock.now();
  const requestId = deps.newId();
  deps.logger.appendKeys({ requestId });
  const request: RequestRecord = {
    request_id: requestId,
    connection_id: frame.connectionId,
    client_id: envelope.id,
    user_id: identity.userId,
    tenant_id: identity.tenantId,
    action: handler.name,
    // The stored payload is what the client sent; it is validated again before each run.
    payload: envelope.payload,
    status: 'queued',
    progress: 0,
    attempts: 0,
    max_retries: handler.maxRetries ?? deps.settings.maxRetries,
    created_at: now,
    updated_at: now,
    lease_shard: leaseShardFor(requestId),
    lease_expires_at: now + deps.settings.queueLeaseMs,
    ttl: epochSeconds(now) + deps.settings.requestTtlSeconds,
  };
  if (envelope.idempotencyKey !== undefined) {
    const replies = await acceptIdempotentRequest(deps, request, envelope.idempotencyKey, identity);
    deps.logger.info('Request accepted', { path: 'async', idempotent: true });
    return replies;
  }
  await deps.requests.create(request);
  // Before the ack leaves (the route response is this invocation's return value): a frozen
  // Lambda would not send the invoke afterwards. Not overlapped with the write: measured, the ack
  // gained nothing here (CPU, not waiting, is most of both calls locally) and the worker's claim
  // then sometimes came before the item, leaving the job to the stream (ack -> first progress p99
  // 28 -> 84-133 ms).
  await dispatchDirectly(deps, requestId);
  deps.logger.info('Request accepted', { path: 'async' });
  return [{ id: envelope.id, type: 'ack', requestId, status: 'queued' }];
}
