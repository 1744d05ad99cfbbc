/**
 * HTTP endpoints that exist only locally, for developers, next to the
 * emulated AWS APIs on the same port: the dashboard's static files at `/`,
 * `GET /dev-token`, `GET /healthz`, `GET /metrics` (the functions' metrics
 * in Prometheus text; `GET /_local/metrics` as JSON), and the `/_local/*`
 * inspection routes.
 * None of them exists on AWS and no function relies on them.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { mintDevToken } from './dev-token';
import type { DeadLetterFile } from './dead-letters';
import type { EmfMetrics } from './emf-metrics';
import { sendJson } from './http-responses';
import type { WebSocketGateway } from './websocket-gateway';

export interface LocalEndpointsContext {
  readonly gateway: WebSocketGateway;
  readonly deadLetters: DeadLetterFile;
  /** The functions' metrics, as CloudWatch would aggregate their EMF lines. */
  readonly metrics: EmfMetrics;
  readonly dashboardDir: string;
  /** `ws://host:port`, for `/dev-token` answers. */
  readonly wsUrl: () => string;
  /** Why the runtime cannot serve right now (DynamoDB Local is down), or `undefined` while it can: `/healthz` answers 503 with it. */
  readonly unavailability?: () => string | undefined;
}

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

/** Loopback-only development routes may be fetched by a dashboard served from another dev server. */
const OPEN_CORS = { 'Access-Control-Allow-Origin': '*' };

/** Answers a local route; false when the path is not one. */
export function handleLocalEndpoint(
  context: LocalEndpointsContext,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): boolean {
  const closing = LOCAL_CONNECTION_PATH.exec(url.pathname);
  if (closing && request.method === 'DELETE') {
    // The runtime's own way to drop a client (tests, the dashboard's operator): `@connections` answers only a function's signed calls.
    // No CORS headers: a page from another origin cannot pass DELETE's preflight.
    if (!context.gateway.disconnect(decodeURIComponent(closing[1]!))) sendJson(response, 410, { message: 'Connection is gone' });
    else response.writeHead(204).end();
    return true;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  switch (url.pathname) {
    case '/healthz': {
      const reason = context.unavailability?.();
      if (reason) sendJson(response, 503, { status: 'unavailable', reason, connections: context.gateway.list().length }, OPEN_CORS);
      else sendJson(response, 200, { status: 'ok', connections: context.gateway.list().length }, OPEN_CORS);
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
        OPEN_CORS,
      );
      return true;
    case '/metrics': {
      const text = context.metrics.prometheus();
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...OPEN_CORS });
      response.end(request.method === 'HEAD' ? undefined : text);
      return true;
    }
    case '/_local/metrics':
      sendJson(response, 200, { series: context.metrics.summaries(url.searchParams.get('name') ?? undefined) }, OPEN_CORS);
      return true;
    case '/_local/dead-letters':
      sendJson(response, 200, context.deadLetters.list(), OPEN_CORS);
      return true;
    default:
      return serveDashboard(context.dashboardDir, request, response, url.pathname);
  }
}

function devToken(context: LocalEndpointsContext, response: ServerResponse, query: URLSearchParams): void {
  const sub = query.get('sub')?.trim() || 'dev-user';
  const tenant = query.get('tenant')?.trim() || 'dev-tenant';
  const permissionsParam = query.get('permissions');
  const permissions = permissionsParam === null ? undefined : permissionsParam.split(',').map((p) => p.trim()).filter(Boolean);
  const ttl = query.get('ttl');
  const expiresInSeconds = ttl === null ? undefined : Number(ttl);
  if (expiresInSeconds !== undefined && (!Number.isInteger(expiresInSeconds) || expiresInSeconds <= 0)) {
    sendJson(response, 400, { message: 'ttl must be a positive integer number of seconds' }, OPEN_CORS);
    return;
  }
  const token = mintDevToken({ sub, tenant, permissions, expiresInSeconds });
  sendJson(response, 200, { token, wsUrl: `${context.wsUrl()}?token=${token}` }, OPEN_CORS);
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
