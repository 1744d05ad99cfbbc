/** `$default`: every client frame. Replies go out through the management API; this always answers 200. */
import type { Context } from 'aws-lambda';
import { describe } from '../core/lifecycle/describe-error';
import { routeMessage } from '../core/lifecycle/route-message';
import { logger, streamerDeps, withObservability } from '../streamer-runtime';
import { websocketLogKeys, type WebSocketEvent, type WebSocketResult } from '../websocket-event';

export const handler = withObservability(async (event: WebSocketEvent, context: Context): Promise<WebSocketResult> => {
  const connectionId = event.requestContext.connectionId;
  try {
    await routeMessage(streamerDeps(), {
      connectionId,
      body: event.body,
      isBase64Encoded: event.isBase64Encoded,
      remainingTimeMs: context.getRemainingTimeInMillis(),
    });
  } catch (error) {
    logger.error('Routing failed', { connectionId, error: describe(error) });
  }
  return { statusCode: 200 };
}, websocketLogKeys);
