/**
 * The `$connect` route's Lambda REQUEST authorizer: verifies the token before
 * API Gateway accepts the handshake. A valid token gets an Allow policy on
 * the route and a context carrying the identity, which API Gateway puts in
 * `requestContext.authorizer` of every later event of the connection (the
 * router then never reads the connection record). A refused token throws
 * `Unauthorized`, the one error API Gateway answers with 401; any other
 * failure (the key cannot be read) answers 500.
 */
import type { APIGatewayAuthorizerWithContextResult } from 'aws-lambda';
import { authorizerContextFor, type AuthorizerContext } from '../core/auth/authorizer-context';
import { ssmTokenKeys } from '../core/auth/ssm-token-keys';
import { authorizeConnection } from '../core/lifecycle/connection-lifecycle';
import { logger, streamerDeps, withObservability } from '../streamer-runtime';
import type { WebSocketAuthorizerEvent } from '../websocket-event';

/** The error message API Gateway maps to 401 Unauthorized (any other error is a 500). */
const UNAUTHORIZED = 'Unauthorized';

export const handler = withObservability(
  async (event: WebSocketAuthorizerEvent): Promise<APIGatewayAuthorizerWithContextResult<AuthorizerContext>> => {
    const connectionId = event.requestContext.connectionId;
    const outcome = await authorizeConnection(streamerDeps('authorizer', { tokenKeys: ssmTokenKeys }), {
      queryStringParameters: event.queryStringParameters,
      headers: event.headers,
    });
    if (!outcome.allowed) {
      logger.info('Handshake refused', { connectionId, statusCode: outcome.statusCode, reason: outcome.reason });
      throw new Error(outcome.statusCode === 401 ? UNAUTHORIZED : `Could not verify the token: ${outcome.reason}`);
    }
    const { identity } = outcome;
    logger.info('Token verified', { connectionId, userId: identity.userId, tenantId: identity.tenantId });
    return {
      principalId: identity.userId,
      policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: event.methodArn }] },
      context: authorizerContextFor(identity),
    };
  },
  {
    keys: (event) => ({ connectionId: event.requestContext.connectionId, route: event.requestContext.routeKey }),
    correlationId: (event) => event.requestContext.requestId,
  },
);
