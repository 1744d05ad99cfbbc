/**
 * `$connect`: store the connection with the identity the route's authorizer
 * verified (`requestContext.authorizer`). The token was checked before this
 * runs: a refused one never reaches here (API Gateway answered 401).
 */
import { identityFromAuthorizerContext } from '../core/auth/authorizer-context';
import { ConfigurationError } from '../core/configuration-error';
import { openConnection } from '../core/lifecycle/connection-lifecycle';
import { logger, streamerDeps, withObservability } from '../streamer-runtime';
import { websocketLogKeys, type WebSocketEvent, type WebSocketResult } from '../websocket-event';

export const handler = withObservability(async (event: WebSocketEvent): Promise<WebSocketResult> => {
  const connectionId = event.requestContext.connectionId;
  const identity = identityFromAuthorizerContext(event.requestContext.authorizer);
  // Only a route without the authorizer gets here without one: a deployment fault, which fails
  // the invocation (API Gateway answers 500, the error alarm counts it); no record is written.
  if (!identity) throw new ConfigurationError('the $connect event carries no authorizer identity: the route must use the token authorizer');
  await openConnection(streamerDeps('connect'), { connectionId, identity, sourceIp: event.requestContext.identity?.sourceIp });
  logger.info('Connected', { connectionId, userId: identity.userId, tenantId: identity.tenantId });
  return { statusCode: 200 };
}, websocketLogKeys);
