/**
 * API Gateway WebSocket proxy events as they really arrive: `$connect`
 * carries headers and the query string, `$disconnect` a status code, and the
 * request context an `identity` (the @types omit these).
 */
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import type { InvocationKeys } from './with-observability';

export type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  readonly headers?: Record<string, string | undefined> | null;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  readonly requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & {
    readonly identity?: { readonly sourceIp?: string; readonly userAgent?: string };
    readonly disconnectStatusCode?: number;
    readonly disconnectReason?: string;
  };
};

export interface WebSocketResult {
  readonly statusCode: number;
  readonly body?: string;
}

/** What every WebSocket route logs about its invocation: the connection, the route, API Gateway's request id. */
export const websocketLogKeys: InvocationKeys<WebSocketEvent> = {
  keys: (event) => ({ connectionId: event.requestContext.connectionId, route: event.requestContext.routeKey }),
  correlationId: (event) => event.requestContext.requestId,
};
