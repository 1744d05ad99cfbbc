/** `$connect`: verify the token, store the connection; a refused token answers 401 and the handshake fails. */
import { ssmTokenKeys } from '../core/auth/ssm-token-keys';
import { openConnection } from '../core/lifecycle/connection-lifecycle';
import { describe } from '../core/lifecycle/describe-error';
import { logger, streamerDeps, withObservability } from '../streamer-runtime';
import { websocketLogKeys, type WebSocketEvent, type WebSocketResult } from '../websocket-event';

export const handler = withObservability(async (event: WebSocketEvent): Promise<WebSocketResult> => {
  const connectionId = event.requestContext.connectionId;
  try {
    const outcome = await openConnection(streamerDeps('connect', { tokenKeys: ssmTokenKeys }), {
      connectionId,
      queryStringParameters: event.queryStringParameters,
      headers: event.headers,
      sourceIp: event.requestContext.identity?.sourceIp,
    });
    if (outcome.accepted) {
      logger.info('Connected', { connectionId, userId: outcome.userId, tenantId: outcome.tenantId });
      return { statusCode: 200 };
    }
    logger.info('Handshake refused', { connectionId, statusCode: outcome.statusCode, reason: outcome.reason });
    return { statusCode: outcome.statusCode, body: outcome.reason };
  } catch (error) {
    logger.error('Connect failed', { connectionId, error: describe(error) });
    return { statusCode: 500, body: 'Internal error' };
  }
}, websocketLogKeys);
