/**
 * HTTP endpoints that exist only locally, for developers, next to the
 * emulated AWS APIs on the same port: the dashboard's static files at `/`,
 * `GET /dev-token`, `GET /healthz`, `GET /metrics` (the functions' metrics
 * in Prometheus text; `GET /_local/metrics` as JSON), and the `/_local/*`
 * inspection routes (`/_local/gateway`: messages sent to clients, by way;
 * `/_local/functions`: containers, invocations and thread CPU per function;
 * `/_local/dynamodb-calls`: the DynamoDB calls each function made, by table and operation).
 * None of them exists on AWS and no function relies on them.
 *
 * None sends CORS headers: the dashboard is served from this origin, and
 * any other page the developer visits must not read a token or the list of
 * connections. `/dev-token` and `/_local/*` also refuse requests a browser
 * marks as cross-origin (`Origin` of another origin, `Sec-Fetch-Site:
 * cross-site`) and requests whose `Host` is not this runtime's (a DNS
 * rebinding page is "same origin" to the browser, but names its own host).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { CUSTOM_SECRET_MESSAGE, DevTokenClaimsError, mintDevToken } from './dev-token';
import type { DeadLetterFile } from './dead-letters';
import type { DynamoDbCallCounts } from './dynamodb-gateway';
import type { EmfMetrics } from './emf-metrics';
import type { FunctionContainerStats } from './lambda-containers';
import { readBody, sendJson } from './http-responses';
import type { RunningParameterStore } from './parameter-store';
import type { WebSocketGateway } from './websocket-gateway';

export interface LocalEndpointsContext {
  readonly gateway: WebSocketGateway;
  readonly deadLetters: DeadLetterFile;
  /** The functions' metrics, as CloudWatch would aggregate their EMF lines. */
  readonly metrics: EmfMetrics;
  readonly dashboardDir: string;
  /** `ws://host:port`, for `/dev-token` answers. */
  readonly wsUrl: () => string;
  /** `http://host:port`: the runtime's own origin, the only one `/dev-token` and `/_local/*` answer. */
  readonly httpUrl: string;
  /** False when the runtime verifies tokens with a secret of your own: `/dev-token` then answers 403. */
  readonly devTokens: boolean;
  /** Why the runtime cannot serve right now (DynamoDB Local is down), or `undefined` while it can: `/healthz` answers 503 with it. */
  readonly unavailability?: () => string | undefined;
  /** Each function's containers, invocations and thread CPU (`/_local/functions`). */
  readonly functionStats?: () => Record<string, FunctionContainerStats>;
  /** DynamoDB calls by function, table and operation (`/_local/dynamodb-calls`): what each function would be billed for. */
  readonly dynamodbCalls?: () => DynamoDbCallCounts;
  /** SSM Parameter Store: `PUT /_local/parameters?name=` overwrites a value, as an operator would. */
  readonly parameters?: RunningParameterStore;
}

/** A parameter value is at most 8 KB (an advanced parameter). */
const MAX_PARAMETER_BYTES = 8192;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

const LOCAL_CONNECTION_PATH = /^\/_local\/connections\/([^/]+)$/;

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** Answers a local route; false when the path is not one. */
export function handleLocalEndpoint(
  context: LocalEndpointsContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): boolean {
  const guarded = url.pathname === '/dev-token' || url.pathname.startsWith('/_local/');
  if (guarded && !isSameOrigin(request, context.httpUrl)) {
    sendJson(response, 403, { message: `${url.pathname} answers only pages of this runtime's own origin (${new URL(context.httpUrl).origin})` });
    return true;
  }
  const closing = LOCAL_CONNECTION_PATH.exec(url.pathname);
  if (closing && request.method === 'DELETE') {
    // The runtime's own way to drop a client (tests, the dashboard's operator): `@connections` answers only a function's signed calls.
    if (!context.gateway.disconnect(decodeURIComponent(closing[1]!))) sendJson(response, 410, { message: 'Connection is gone' });
    else response.writeHead(204).end();
    return true;
  }
  if (url.pathname === '/_local/parameters' && request.method === 'PUT' && context.parameters) {
    // The operator's `aws ssm put-parameter --overwrite` (a token key rotation): the functions read it through SSM.
    const store = context.parameters;
    const name = url.searchParams.get('name') ?? '';
    readBody(request, MAX_PARAMETER_BYTES)
      .then((body) => {
        if (store.put(name, body.toString('utf8'))) response.writeHead(204).end();
        else sendJson(response, 404, { message: `no SSM parameter ${name}` });
      })
      .catch((error: unknown) => sendJson(response, 400, { message: error instanceof Error ? error.message : String(error) }));
    return true;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  switch (url.pathname) {
    case '/healthz': {
      const reason = context.unavailability?.();
      if (reason) sendJson(response, 503, { status: 'unavailable', reason, connections: context.gateway.list().length });
      else sendJson(response, 200, { status: 'ok', connections: context.gateway.list().length });
      return true;
    }
    case '/dev-token':
      devToken(context, response, url.searchParams);
      return true;
    case '/_local/connections':
      sendJson(
        response,
        200,
        context.gateway.list().map(({ connectionId, connectedAt, sourceIp }) => ({ connectionId, connectedAt, sourceIp })),
      );
      return true;
    case '/metrics': {
      const text = context.metrics.prometheus();
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      response.end(request.method === 'HEAD' ? undefined : text);
      return true;
    }
    case '/_local/functions':
      sendJson(response, 200, context.functionStats?.() ?? {});
      return true;
    case '/_local/dynamodb-calls':
      sendJson(response, 200, context.dynamodbCalls?.() ?? {});
      return true;
    case '/_local/gateway':
      sendJson(response, 200, context.gateway.counters());
      return true;
    case '/_local/metrics':
      sendJson(response, 200, { series: context.metrics.summaries(url.searchParams.get('name') ?? undefined) });
      return true;
    case '/_local/dead-letters':
      sendJson(response, 200, context.deadLetters.list());
      return true;
    default:
      return serveDashboard(context.dashboardDir, request, response, url.pathname);
  }
}

function devToken(context: LocalEndpointsContext, response: ServerResponse, query: URLSearchParams): void {
  if (!context.devTokens) {
    sendJson(response, 403, { message: CUSTOM_SECRET_MESSAGE });
    return;
  }
  const permissionsParam = query.get('permissions');
  const ttl = query.get('ttl');
  try {
    const token = mintDevToken({
      sub: query.get('sub')?.trim() || 'dev-user',
      tenant: query.get('tenant')?.trim() || 'dev-tenant',
      permissions: permissionsParam === null ? undefined : permissionsParam.split(',').map((p) => p.trim()).filter(Boolean),
      // Number('') is 0 and Number('1e3') 1000: the text must be digits to be a lifetime.
      expiresInSeconds: ttl === null ? undefined : /^\d{1,9}$/.test(ttl) ? Number(ttl) : Number.NaN,
    });
    sendJson(response, 200, { token, wsUrl: `${context.wsUrl()}?token=${token}` });
  } catch (error) {
    if (!(error instanceof DevTokenClaimsError)) throw error;
    sendJson(response, 400, { message: error.message });
  }
}

/**
 * A browser names the page behind a request in `Origin` (cross-origin and
 * non-GET requests) and `Sec-Fetch-Site`; tools like curl send neither and
 * pass. `Host` must name this runtime too, which defeats DNS rebinding.
 */
function isSameOrigin(request: IncomingMessage, httpUrl: string): boolean {
  const own = new URL(httpUrl);
  const hosts = new Set([own.host]);
  if (LOOPBACK_NAMES.includes(own.hostname)) for (const name of LOOPBACK_NAMES) hosts.add(`${name}:${own.port}`);
  const host = request.headers.host?.toLowerCase();
  if (host === undefined || !hosts.has(host)) return false;
  // `same-site` is another port or subdomain: still another origin.
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  // `Origin: null` (sandboxed frames, file: pages) is another origin too.
  return origin.toLowerCase() === `${own.protocol}//${host}`;
}

function serveDashboard(dashboardDir: string, request: IncomingMessage, response: ServerResponse, pathname: string): boolean {
  const root = resolve(dashboardDir);
  const relative = normalize(decodeURIComponent(pathname === '/' ? '/index.html' : pathname));
  const file = join(root, relative);
  if (file !== root && !file.startsWith(root + sep)) return false;
  if (!existsSync(file) || !statSync(file).isFile()) {
    if (pathname !== '/') return false;
    const text = `Streamer local runtime. The dashboard is not built (${join(root, 'index.html')} is missing): run npm run build.\n`;
    response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    response.end(text);
    return true;
  }
  response.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': statSync(file).size,
    'Cache-Control': 'no-cache',
  });
  if (request.method === 'HEAD') response.end();
  else createReadStream(file).pipe(response);
  return true;
}
