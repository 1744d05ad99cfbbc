/**
 * API Gateway's WebSocket API, emulated: the upgrade request goes to the
 * `$connect` function (a non-2xx answer refuses the handshake with that
 * status), each frame goes to `$default` (binary frames base64 encoded), a
 * close goes to `$disconnect`. The functions' return values never reach the
 * client (no route responses): replies travel only through the
 * `@connections` management API, which this class backs.
 *
 * Limits are API Gateway's (`functions/core/aws-limits.ts`): a single frame
 * over `maxFrameBytes` (32 KB) or a message over `maxMessageBytes` (128 KB,
 * however it is fragmented) closes the socket with 1009; a fragmented message
 * within both reaches `$default` as one message. `@connections` data over
 * `maxMessageBytes` is refused, and longer data goes out in frames of at most
 * `maxFrameBytes`, as API Gateway sends it. An idle connection is closed
 * after `idleTimeoutMs`, every connection after `maxConnectionDurationMs`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { MESSAGE_TOO_BIG_CLOSE_CODE, WEBSOCKET_LIMITS } from '../functions/core/aws-limits';
import { frameSlices } from '../functions/core/protocol/frames';
import {
  type ConnectionFacts,
  connectEvent,
  disconnectEvent,
  gatewayId,
  headerValue,
  messageEvent,
} from './api-gateway-events';
import type { LambdaContainers } from './lambda-containers';
import { describeError, type Logger, silentLogger } from './log';
import { FrameSizeInspector } from './websocket-frame-limit';

/** The gateway's limits; size limits default to API Gateway's, which no stack can change. */
export interface WebSocketLimits {
  /** Largest single frame, in either direction (default `WEBSOCKET_LIMITS.maxFrameBytes`, 32 KB). */
  readonly maxFrameBytes?: number;
  /** Largest message, all its frames together (default `WEBSOCKET_LIMITS.maxMessageBytes`, 128 KB). */
  readonly maxMessageBytes?: number;
  readonly idleTimeoutMs: number;
  readonly maxConnectionDurationMs: number;
}

/** The function each route integrates with (physical name or ARN), as the API's integrations name them. */
export interface WebSocketRoutes {
  readonly connect: string;
  readonly default: string;
  readonly disconnect: string;
}

export interface WebSocketGatewayOptions {
  readonly functions: Pick<LambdaContainers, 'invoke'>;
  readonly routes: WebSocketRoutes;
  /** The API these connections belong to (its id and stage appear in every event). */
  readonly api: { readonly id: string; readonly stage: string };
  readonly limits: WebSocketLimits;
  readonly log?: Logger;
}

export interface ConnectionDescription {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent?: string;
}

export type PostOutcome = 'sent' | 'gone' | 'too-large';

interface LiveConnection {
  readonly socket: WebSocket;
  readonly facts: ConnectionFacts;
  lastActiveAt: number;
  idleTimer?: NodeJS.Timeout;
  readonly lifetimeTimer: NodeJS.Timeout;
  closeReason?: string;
  closeCode?: number;
  /** A frame broke the frame limit: what `ws` still parses after that is never routed. */
  refused?: boolean;
}

const GOING_AWAY = 1001;

export class WebSocketGateway {
  private readonly connections = new Map<string, LiveConnection>();
  private readonly server: WebSocketServer;
  private readonly chosenProtocols = new WeakMap<IncomingMessage, string>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly log: Logger;
  private readonly maxFrameBytes: number;
  private readonly maxMessageBytes: number;
  private closed = false;

  constructor(private readonly options: WebSocketGatewayOptions) {
    this.log = options.log ?? silentLogger;
    this.maxFrameBytes = options.limits.maxFrameBytes ?? WEBSOCKET_LIMITS.maxFrameBytes;
    this.maxMessageBytes = options.limits.maxMessageBytes ?? WEBSOCKET_LIMITS.maxMessageBytes;
    this.server = new WebSocketServer({
      noServer: true,
      // `ws` bounds whole messages (fragments summed) and fails them with 1009 itself;
      // the per-frame limit is the FrameSizeInspector's (see accept()).
      maxPayload: this.maxMessageBytes,
      perMessageDeflate: false,
      // API Gateway selects a subprotocol only when `$connect` answers with Sec-WebSocket-Protocol.
      handleProtocols: (_protocols, request) => this.chosenProtocols.get(request) ?? false,
    });
  }

  /** The HTTP server's `upgrade` listener. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const work = this.connect(request, socket, head).catch((error: unknown) => {
      this.log.error(`handshake failed: ${describeError(error)}`);
      refuse(socket, 500, JSON.stringify({ message: 'Internal server error' }));
    });
    this.track(work);
  }

  list(): ConnectionDescription[] {
    return [...this.connections.values()].map(describe);
  }

  describe(connectionId: string): ConnectionDescription | undefined {
    const connection = this.connections.get(connectionId);
    return connection && describe(connection);
  }

  /** `POST @connections/{id}`: sends `data` as one text message, in frames of at most `maxFrameBytes`. */
  post(connectionId: string, data: Buffer): PostOutcome {
    const connection = this.connections.get(connectionId);
    if (!connection || connection.socket.readyState !== WebSocket.OPEN) return 'gone';
    if (data.length > this.maxMessageBytes) return 'too-large';
    // Sent back to back in one turn of the event loop, so no other message can interleave its frames.
    const slices = frameSlices(data, this.maxFrameBytes);
    slices.forEach((slice, index) => connection.socket.send(slice, { binary: false, fin: index === slices.length - 1 }));
    this.touch(connection);
    return 'sent';
  }

  /** The message limit `@connections` data must respect (`PostToConnection`'s limit). */
  get messageLimitBytes(): number {
    return this.maxMessageBytes;
  }

  /** `DELETE @connections/{id}`: the server closes the connection. */
  disconnect(connectionId: string): boolean {
    const connection = this.connections.get(connectionId);
    if (!connection || connection.socket.readyState !== WebSocket.OPEN) return false;
    connection.closeReason = 'Connection closed by the @connections API';
    connection.socket.close(1000, 'Connection deleted');
    return true;
  }

  /** Closes every connection with 1001 and waits (bounded) for the `$disconnect` invocations. */
  async close(graceMs = 3000): Promise<void> {
    this.closed = true;
    for (const connection of this.connections.values()) {
      connection.closeReason = 'Server shutting down';
      connection.socket.close(GOING_AWAY, 'Going away');
    }
    const deadline = Date.now() + graceMs;
    while ((this.connections.size > 0 || this.pending.size > 0) && Date.now() < deadline) await delay(25);
    for (const connection of this.connections.values()) connection.socket.terminate();
    this.server.close();
  }

  private async connect(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (this.closed) return refuse(socket, 503, 'Service Unavailable');
    let socketGone = false;
    socket.once('close', () => (socketGone = true));
    const url = new URL(request.url ?? '/', 'http://localhost');
    const facts: ConnectionFacts = {
      apiId: this.options.api.id,
      stage: this.options.api.stage,
      connectionId: gatewayId(),
      connectedAt: Date.now(),
      domainName: headerValue(request.headers, 'host') ?? 'localhost',
      sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      userAgent: headerValue(request.headers, 'user-agent'),
    };
    const outcome = await this.options.functions.invoke(this.options.routes.connect, connectEvent(facts, request.rawHeaders, url.searchParams));
    if (!outcome.ok) {
      this.log.info(`connect ${facts.connectionId} refused 500 (the $connect function failed)`);
      return refuse(socket, 500, JSON.stringify({ message: 'Internal server error' }));
    }
    const response = (outcome.result ?? {}) as { statusCode?: unknown; body?: unknown; headers?: Record<string, unknown> };
    const status = typeof response.statusCode === 'number' ? response.statusCode : undefined;
    if (status === undefined) {
      this.log.warn(`connect ${facts.connectionId} refused 502: the $connect function returned no statusCode`);
      return refuse(socket, 502, JSON.stringify({ message: 'Internal server error' }));
    }
    if (status < 200 || status > 299) {
      this.log.info(`connect ${facts.connectionId} refused ${status}`);
      return refuse(socket, status, typeof response.body === 'string' ? response.body : '');
    }
    if (socketGone || this.closed) {
      // The client left while $connect ran: API Gateway still tells $disconnect.
      this.track(this.options.functions.invoke(this.options.routes.disconnect, disconnectEvent(facts, 1006, 'Client left during connect')));
      return;
    }
    const protocol = Object.entries(response.headers ?? {}).find(([name]) => name.toLowerCase() === 'sec-websocket-protocol')?.[1];
    if (typeof protocol === 'string') this.chosenProtocols.set(request, protocol);
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws, facts, socket));
  }

  private accept(socket: WebSocket, facts: ConnectionFacts, raw: Duplex): void {
    const { limits } = this.options;
    const connection: LiveConnection = {
      socket,
      facts,
      lastActiveAt: Date.now(),
      lifetimeTimer: setTimeout(() => {
        connection.closeReason = 'Connection duration exceeded';
        socket.close(GOING_AWAY, 'Going away');
      }, limits.maxConnectionDurationMs),
    };
    this.connections.set(facts.connectionId, connection);
    this.touch(connection);
    this.log.info(`connect ${facts.connectionId} from ${facts.sourceIp}`);

    // Prepended, so every chunk is inspected before `ws` parses it (and might emit it as a message).
    // `ws` has just put the upgrade's `head` bytes back into the stream: they pass here too.
    const frames = new FrameSizeInspector(this.maxFrameBytes);
    raw.prependListener('data', (chunk: Buffer) => {
      const oversized = frames.inspect(chunk);
      if (!oversized) return;
      connection.refused = true;
      connection.closeCode = MESSAGE_TOO_BIG_CLOSE_CODE;
      this.log.info(`closing ${facts.connectionId}: a ${oversized.payloadBytes}-byte frame is over the ${oversized.limitBytes}-byte frame limit`);
      socket.close(MESSAGE_TOO_BIG_CLOSE_CODE, 'Message too big');
    });

    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (connection.refused) return;
      this.touch(connection);
      this.route(connection, toBuffer(data), isBinary);
    });
    socket.on('ping', () => this.touch(connection));
    socket.on('error', (error: Error & { code?: string }) => {
      // ws fails an oversized message with 1009 itself; the server side then only sees an abnormal close.
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') connection.closeCode = MESSAGE_TOO_BIG_CLOSE_CODE;
      this.log.debug(`socket ${facts.connectionId}: ${describeError(error)}`);
    });
    socket.on('close', (closeCode: number, reason: Buffer) => {
      const code = connection.closeCode ?? closeCode;
      clearTimeout(connection.idleTimer);
      clearTimeout(connection.lifetimeTimer);
      this.connections.delete(facts.connectionId);
      const why = connection.closeReason ?? (reason.length > 0 ? reason.toString('utf8') : closeReasonFor(code));
      this.log.info(`disconnect ${facts.connectionId} ${code} ${why}`);
      this.track(this.options.functions.invoke(this.options.routes.disconnect, disconnectEvent(facts, code, why)));
    });
  }

  private route(connection: LiveConnection, data: Buffer, isBinary: boolean): void {
    const event = messageEvent(connection.facts, data, isBinary);
    // API Gateway invokes the integration per message, concurrently: no ordering between frames.
    const work = this.options.functions.invoke(this.options.routes.default, event).then((outcome) => {
      if (outcome.ok) return;
      // What API Gateway sends a client when the integration fails.
      this.post(
        connection.facts.connectionId,
        Buffer.from(
          JSON.stringify({
            message: 'Internal server error',
            connectionId: connection.facts.connectionId,
            requestId: event.requestContext.requestId,
          }),
        ),
      );
    });
    this.track(work);
  }

  private touch(connection: LiveConnection): void {
    connection.lastActiveAt = Date.now();
    clearTimeout(connection.idleTimer);
    connection.idleTimer = setTimeout(() => {
      connection.closeReason = 'Idle timeout';
      connection.socket.close(GOING_AWAY, 'Going away');
    }, this.options.limits.idleTimeoutMs);
  }

  private track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }
}

function describe(connection: LiveConnection): ConnectionDescription {
  return {
    connectionId: connection.facts.connectionId,
    connectedAt: connection.facts.connectedAt,
    lastActiveAt: connection.lastActiveAt,
    sourceIp: connection.facts.sourceIp,
    ...(connection.facts.userAgent !== undefined && { userAgent: connection.facts.userAgent }),
  };
}

function closeReasonFor(code: number): string {
  if (code === MESSAGE_TOO_BIG_CLOSE_CODE) return 'Message too big';
  if (code === 1006) return 'Connection lost';
  return 'Client closed the connection';
}

function refuse(socket: Duplex, status: number, body: string): void {
  if (socket.destroyed) return;
  const reason = STATUS_TEXT[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
