/**
 * `$default`: every client frame. The frame's reply is the return value's
 * `body`, which API Gateway sends to the client (the route is two-way: it has
 * a `$default` route response); other messages go out through the management API.
 * A frame the router cannot handle (it is misconfigured, or routing failed
 * without a reply) gets an `INTERNAL_ERROR` where one can be sent, and the
 * invocation fails so that the function's error alarm counts it.
 */
import type { Context } from 'aws-lambda';
import { identityFromAuthorizerContext } from '../core/auth/authorizer-context';
import { lambdaWorkDispatcher } from '../core/dispatcher';
import { ENV } from '../core/env-names';
import { describe } from '../core/lifecycle/describe-error';
import type { StreamerDeps } from '../core/lifecycle/deps';
import { routeMessage } from '../core/lifecycle/route-message';
import { bareNotifier, replyInternalError } from '../core/notify/last-resort-reply';
import { s3ObjectStore } from '../core/stores/object-store';
import type { ServerMessage } from '../core/protocol/messages';
import { deliveryText } from '../core/notify/encode-for-delivery';
import { registry } from '../handlers';
import { logger, streamerDeps, withObservability } from '../streamer-runtime';
import { websocketLogKeys, type WebSocketEvent, type WebSocketResult } from '../websocket-event';

/**
 * Direct dispatch runs before the `ack` leaves, and the stream starts the request when it fails:
 * one attempt, bounded, so a throttled or slow Lambda API costs the ack at most this long.
 */
const DIRECT_DISPATCH_TIMEOUT_MS = 1000;
const directDispatcher: NonNullable<Parameters<typeof streamerDeps>[1]>['dispatcher'] = (workerFunction, instrumentClient) =>
  lambdaWorkDispatcher(workerFunction, instrumentClient, { maxAttempts: 1, requestTimeoutMs: DIRECT_DISPATCH_TIMEOUT_MS });

export const handler = withObservability(async (event: WebSocketEvent, context: Context): Promise<WebSocketResult> => {
  const frame = {
    connectionId: event.requestContext.connectionId,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded,
    identity: identityFromAuthorizerContext(event.requestContext.authorizer),
  };
  let deps: StreamerDeps;
  try {
    deps = streamerDeps('router', { registry, objectStore: s3ObjectStore, dispatcher: directDispatcher });
  } catch (error) {
    logger.error('Router is misconfigured', { connectionId: frame.connectionId, error: describe(error) });
    const endpoint = process.env[ENV.managementEndpoint]?.trim();
    await replyInternalError(endpoint ? bareNotifier(endpoint) : undefined, frame);
    throw error;
  }
  let reply: ServerMessage | undefined;
  try {
    reply = await routeMessage(deps, { ...frame, remainingTimeMs: context.getRemainingTimeInMillis() });
  } catch (error) {
    logger.error('Routing failed', { connectionId: frame.connectionId, error: describe(error) });
    await replyInternalError(deps.notifier, frame);
    throw error;
  }
  if (reply === undefined) return { statusCode: 200 };
  // The route response is a message like any other: over the limit, a result goes by reference (deliveryText).
  return { statusCode: 200, body: await deliveryText(reply, { objects: deps.objects, logger }) };
}, websocketLogKeys);
