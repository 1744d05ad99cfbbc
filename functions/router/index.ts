/**
 * `$default`: every client frame. Replies go out through the management API.
 * A frame the router cannot handle (it is misconfigured, or routing failed
 * without a reply) gets an `INTERNAL_ERROR` where one can be sent, and the
 * invocation fails so that the function's error alarm counts it.
 */
import type { Context } from 'aws-lambda';
import { ENV } from '../core/env-names';
import { describe } from '../core/lifecycle/describe-error';
import type { StreamerDeps } from '../core/lifecycle/deps';
import { routeMessage } from '../core/lifecycle/route-message';
import { bareNotifier, replyInternalError } from '../core/notify/last-resort-reply';
import { s3ObjectStore } from '../core/stores/object-store';
import { logger, streamerDeps, withObservability } from '../streamer-runtime';
import { websocketLogKeys, type WebSocketEvent, type WebSocketResult } from '../websocket-event';

export const handler = withObservability(async (event: WebSocketEvent, context: Context): Promise<WebSocketResult> => {
  const frame = { connectionId: event.requestContext.connectionId, body: event.body, isBase64Encoded: event.isBase64Encoded };
  let deps: StreamerDeps;
  try {
    deps = streamerDeps('router', { objectStore: s3ObjectStore });
  } catch (error) {
    logger.error('Router is misconfigured', { connectionId: frame.connectionId, error: describe(error) });
    const endpoint = process.env[ENV.managementEndpoint]?.trim();
    await replyInternalError(endpoint ? bareNotifier(endpoint) : undefined, frame);
    throw error;
  }
  try {
    await routeMessage(deps, { ...frame, remainingTimeMs: context.getRemainingTimeInMillis() });
  } catch (error) {
    logger.error('Routing failed', { connectionId: frame.connectionId, error: describe(error) });
    await replyInternalError(deps.notifier, frame);
    throw error;
  }
  return { statusCode: 200 };
}, websocketLogKeys);
