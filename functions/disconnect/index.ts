/** `$disconnect`: forget the connection and its subscriptions (best effort: API Gateway does not retry it, the TTL is the backstop). */
import { closeConnection } from '../core/lifecycle/connection-lifecycle';
import { describe } from '../core/lifecycle/describe-error';
import { logger, streamerDeps, withObservability } from '../streamer-runtime';
import { websocketLogKeys, type WebSocketEvent, type WebSocketResult } from '../websocket-event';

export const handler = withObservability(async (event: WebSocketEvent): Promise<WebSocketResult> => {
  const connectionId = event.requestContext.connectionId;
  try {
    await closeConnection(streamerDeps('disconnect'), connectionId);
    logger.info('Disconnected', { connectionId, statusCode: event.requestContext.disconnectStatusCode });
  } catch (error) {
    logger.error('Disconnect cleanup failed; TTL will remove the records', { connectionId, error: describe(error) });
  }
  return { statusCode: 200 };
}, websocketLogKeys);
