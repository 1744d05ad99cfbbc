/**
 * API Gateway WebSocket proxy events as they really arrive: `$connect`
 * carries headers and the query string, `$disconnect` a status code, and the
 * request context an `identity` and, on a route behind the `$connect`
 * authorizer's connection, the `authorizer` context (the @types omit these).
 */
import type { APIGatewayProxyWebsocketEventV2, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { InvocationKeys } from './with-observability';

export type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  readonly headers?: Record<string, string | undefined> | null;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  readonly requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & {
    readonly identity?: { readonly sourceIp?: string; readonly userAgent?: string };
    readonly disconnectStatusCode?: number;
    readonly disconnectReason?: string;
    /** What the `$connect` authorizer returned: its context's values and `principalId`. */
    readonly authorizer?: Readonly<Record<string, unknown>> | null;
  };
};

/**
 * The input of a WebSocket API's Lambda REQUEST authorizer: the REST shape
 * without a path or method (the route is always `$connect`), with the
 * WebSocket request context.
 */
export type WebSocketAuthorizerEvent = Pick<
  APIGatewayRequestAuthorizerEvent,
  'type' | 'methodArn' | 'headers' | 'multiValueHeaders' | 'queryStringParameters' | 'multiValueQueryStringParameters' | 'stageVariables'
> & { readonly requestContext: WebSocketEvent['requestContext'] };

export interface WebSocketResult {
  readonly statusCode: number;
  readonly body?: string;
}

/** What every WebSocket route logs about its invocation: the connection, the route, API Gateway's request id. */
export const websocketLogKeys: InvocationKeys<WebSocketEvent> = {
  keys: (event) => ({ connectionId: event.requestContext.connectionId, route: event.requestContext.routeKey }),
  correlationId: (event) => event.requestContext.requestId,
};
