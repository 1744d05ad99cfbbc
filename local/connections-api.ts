/**
 * API Gateway's `@connections` management API over HTTP, as the AWS SDK's
 * `ApiGatewayManagementApiClient` calls it (restJson: the `Data` blob is the
 * raw body): `POST` sends a message, `GET` describes, `DELETE` closes. Unknown
 * or closed connections answer 410 `GoneException`, as on AWS. Paths may
 * carry the stage (`/<stage>/@connections/{id}`), as the AWS endpoint does.
 *
 * Every call must be signed by a function whose role may
 * `execute-api:ManageConnections` on
 * `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/@connections/{id}`;
 * an unsigned one gets 403 "Missing Authentication Token", as on AWS.
 *
 * `PostToConnection` data is bounded by API Gateway's message payload size
 * (128 KB), not the 32 KB frame size: a longer message goes out in several
 * frames. The limit is the gateway's, so the two can never disagree.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody, sendAwsError, sendJson } from './http-responses';
import type { DeployedWebSocketApi } from './deployment';
import { type LocalIam, sendAwsResponse } from './local-iam';
import type { WebSocketGateway } from './websocket-gateway';

export interface ManagementApiAuthorization {
  readonly iam: LocalIam;
  readonly api: DeployedWebSocketApi;
  readonly region: string;
  readonly accountId: string;
}

const CONNECTIONS_PATH = /^(?:\/[^/@]+)?\/@connections\/([^/]+)\/?$/;

export function isConnectionsPath(pathname: string): boolean {
  return CONNECTIONS_PATH.test(pathname);
}

export async function handleConnectionsApi(
  gateway: WebSocketGateway,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
  authorization: ManagementApiAuthorization,
): Promise<void> {
  const connectionId = decodeURIComponent(CONNECTIONS_PATH.exec(pathname)![1]!);
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
  const { iam, api, region, accountId } = authorization;
  const resource = `arn:aws:execute-api:${region}:${accountId}:${api.id}/${api.stage}/${request.method ?? 'GET'}/@connections/${connectionId}`;
  const refusal = await iam.check('execute-api', { method: request.method ?? 'GET', rawPath: request.url ?? pathname, headers: request.headers, body: data }, 'execute-api:ManageConnections', resource);
  if (refusal) return sendAwsResponse(response, refusal);
  switch (request.method) {
    case 'POST': {
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
