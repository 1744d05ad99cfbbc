/**
 * API Gateway's `@connections` management API over HTTP, as the AWS SDK's
 * `ApiGatewayManagementApiClient` calls it (restJson: the `Data` blob is the
 * raw body): `POST` sends a message, `GET` describes, `DELETE` closes. Unknown
 * or closed connections answer 410 `GoneException`, as on AWS. Paths may
 * carry the stage (`/<stage>/@connections/{id}`), as the AWS endpoint does.
 *
 * `PostToConnection` data is bounded by API Gateway's message payload size
 * (128 KB), not the 32 KB frame size: a longer message goes out in several
 * frames. The limit is the gateway's, so the two can never disagree.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody, sendAwsError, sendJson } from './http-responses';
import type { WebSocketGateway } from './websocket-gateway';

const CONNECTIONS_PATH = /^(?:\/[^/@]+)?\/@connections\/([^/]+)\/?$/;

export function isConnectionsPath(pathname: string): boolean {
  return CONNECTIONS_PATH.test(pathname);
}

export async function handleConnectionsApi(
  gateway: WebSocketGateway,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
): Promise<void> {
  const connectionId = decodeURIComponent(CONNECTIONS_PATH.exec(pathname)![1]!);
  switch (request.method) {
    case 'POST': {
      const limit = gateway.messageLimitBytes;
      let data: Buffer;
      try {
        data = await readBody(request, limit);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          return sendAwsError(response, 413, 'PayloadTooLargeException', `Message too long: the limit is ${limit} bytes`);
        }
        throw error;
      }
      const outcome = gateway.post(connectionId, data);
      if (outcome === 'gone') return sendAwsError(response, 410, 'GoneException', `Connection ${connectionId} is gone`);
      if (outcome === 'too-large') return sendAwsError(response, 413, 'PayloadTooLargeException', 'Message too long');
      response.writeHead(200, { 'Content-Length': 0 });
      return void response.end();
    }
    case 'GET': {
      const connection = gateway.describe(connectionId);
      if (!connection) return sendAwsError(response, 410, 'GoneException', `Connection ${connectionId} is gone`);
      return sendJson(response, 200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, ...(connection.userAgent !== undefined && { userAgent: connection.userAgent }) },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
    }
    case 'DELETE': {
      if (!gateway.disconnect(connectionId)) return sendAwsError(response, 410, 'GoneException', `Connection ${connectionId} is gone`);
      response.writeHead(204);
      return void response.end();
    }
    default:
      return sendAwsError(response, 405, 'MethodNotAllowedException', `${request.method} is not supported on @connections`);
  }
}
