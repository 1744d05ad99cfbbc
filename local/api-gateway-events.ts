/**
 * The events API Gateway's WebSocket API sends a Lambda proxy integration for
 * `$connect`, `$default` and `$disconnect`, field for field (see the AWS
 * docs' "WebSocket API Lambda proxy integration" examples), and the input of
 * the `$connect` route's Lambda REQUEST authorizer ("Control access to
 * WebSocket APIs with AWS Lambda REQUEST authorizers").
 */
import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { APIGatewayEventWebsocketRequestContextV2, APIGatewayProxyWebsocketEventV2, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { AuthorizerContextValues } from './api-gateway-authorizer';


/** `requestContext` as API Gateway fills it for WebSocket routes (a superset of the typings). */
export interface WebSocketRequestContext extends Omit<APIGatewayEventWebsocketRequestContextV2, 'messageId'> {
  readonly messageId?: string;
  readonly identity: { readonly sourceIp: string; readonly userAgent?: string };
  readonly disconnectStatusCode?: number;
  readonly disconnectReason?: string;
  /** What the `$connect` authorizer returned (its context and `principalId`), on every event of that connection. */
  readonly authorizer?: AuthorizerContextValues;
}

export interface WebSocketEvent extends Omit<APIGatewayProxyWebsocketEventV2, 'requestContext'> {
  readonly requestContext: WebSocketRequestContext;
  readonly headers?: Record<string, string>;
  readonly multiValueHeaders?: Record<string, string[]>;
}

/**
 * A WebSocket API's REQUEST authorizer input: the REST shape without a path
 * or method (the route is always `$connect`), with the `$connect` request context.
 */
export type WebSocketAuthorizerEvent = Pick<
  APIGatewayRequestAuthorizerEvent,
  'type' | 'methodArn' | 'headers' | 'multiValueHeaders' | 'queryStringParameters' | 'multiValueQueryStringParameters' | 'stageVariables'
> & { readonly requestContext: WebSocketRequestContext };

/** What the gateway knows about a connection when it builds an event. */
export interface ConnectionFacts {
  /** The deployment's API id and stage, as in the manifest. */
  readonly apiId: string;
  readonly stage: string;
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly domainName: string;
  readonly sourceIp: string;
  readonly userAgent?: string;
  /** Set once the `$connect` authorizer allowed the connection; every later event carries it. */
  readonly authorizer?: AuthorizerContextValues;
}

const ID_BYTES = 11;
/** Entropy for 256 ids at a time: one `randomBytes` call per event (two ids) cost 3 % of the gateway's busy time under load. */
const entropy = Buffer.alloc(ID_BYTES * 256);
let entropyUsed = entropy.length;

/** API Gateway's ids look like `L0SM9cOFvHcCIhw=`; base64url keeps them safe in a URL path. */
export function gatewayId(): string {
  if (entropyUsed === entropy.length) {
    randomFillSync(entropy);
    entropyUsed = 0;
  }
  const id = entropy.toString('base64url', entropyUsed, entropyUsed + ID_BYTES);
  entropyUsed += ID_BYTES;
  return `${id}=`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** `09/Feb/2024:10:00:00 +0000`, API Gateway's `requestTime`. (A table, not `toLocaleString`: that costs ~57 µs per event.) */
export function requestTime(epochMs: number): string {
  const date = new Date(epochMs);
  const month = MONTHS[date.getUTCMonth()];
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function requestContext(
  facts: ConnectionFacts,
  route: { routeKey: string; eventType: WebSocketRequestContext['eventType'] },
  now: number,
): WebSocketRequestContext {
  const requestId = gatewayId();
  return {
    routeKey: route.routeKey,
    eventType: route.eventType,
    extendedRequestId: requestId,
    requestTime: requestTime(now),
    messageDirection: 'IN',
    stage: facts.stage,
    connectedAt: facts.connectedAt,
    requestTimeEpoch: now,
    identity: { sourceIp: facts.sourceIp, ...(facts.userAgent !== undefined && { userAgent: facts.userAgent }) },
    requestId,
    domainName: facts.domainName,
    connectionId: facts.connectionId,
    apiId: facts.apiId,
    ...(facts.authorizer !== undefined && { authorizer: facts.authorizer }),
  };
}

/** Headers as the client sent them (case kept), single- and multi-valued, as API Gateway passes them. */
export function headerMaps(rawHeaders: readonly string[]): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  return { headers, multiValueHeaders };
}

/** The query string, single- and multi-valued; both absent without one, as API Gateway sends it. */
export function queryMaps(search: URLSearchParams): {
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
} {
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of search) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  return Object.keys(query).length > 0 ? { queryStringParameters: query, multiValueQueryStringParameters: multiQuery } : {};
}

export function connectEvent(facts: ConnectionFacts, rawHeaders: readonly string[], search: URLSearchParams): WebSocketEvent {
  const now = Date.now();
  return {
    ...headerMaps(rawHeaders),
    ...queryMaps(search),
    requestContext: requestContext(facts, { routeKey: '$connect', eventType: 'CONNECT' }, now),
    isBase64Encoded: false,
  };
}

/**
 * `arn:aws:execute-api:{region}:{account}:{api-id}/{stage}/$connect`: the
 * resource the authorizer's policy must allow (a WebSocket method ARN has no HTTP verb).
 */
export function connectMethodArn(api: { readonly region: string; readonly accountId: string; readonly id: string; readonly stage: string }): string {
  return `arn:aws:execute-api:${api.region}:${api.accountId}:${api.id}/${api.stage}/$connect`;
}

/** The `$connect` authorizer's input: the handshake's headers and query, the stage's variables (none here), the `$connect` context. */
export function authorizerEvent(facts: ConnectionFacts, rawHeaders: readonly string[], search: URLSearchParams, methodArn: string): WebSocketAuthorizerEvent {
  const query = queryMaps(search);
  return {
    type: 'REQUEST',
    methodArn,
    ...headerMaps(rawHeaders),
    queryStringParameters: query.queryStringParameters ?? null,
    multiValueQueryStringParameters: query.multiValueQueryStringParameters ?? null,
    stageVariables: {},
    requestContext: requestContext(facts, { routeKey: '$connect', eventType: 'CONNECT' }, Date.now()),
  };
}

export function messageEvent(facts: ConnectionFacts, data: Buffer, isBinary: boolean): WebSocketEvent {
  const now = Date.now();
  return {
    requestContext: {
      ...requestContext(facts, { routeKey: '$default', eventType: 'MESSAGE' }, now),
      messageId: gatewayId(),
    },
    body: isBinary ? data.toString('base64') : data.toString('utf8'),
    isBase64Encoded: isBinary,
  };
}

export function disconnectEvent(facts: ConnectionFacts, statusCode: number, reason: string): WebSocketEvent {
  const now = Date.now();
  const headers = { Host: facts.domainName, 'X-Forwarded-For': facts.sourceIp };
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    requestContext: {
      ...requestContext(facts, { routeKey: '$disconnect', eventType: 'DISCONNECT' }, now),
      disconnectStatusCode: statusCode,
      disconnectReason: reason,
    },
    isBase64Encoded: false,
  };
}

/** Lowercased header lookup for Node's `IncomingHttpHeaders`. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
