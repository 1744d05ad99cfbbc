/**
 * API Gateway's WebSocket API, emulated: the upgrade request goes to the
 * `$connect` route's authorizer when the deployment has one (a refusal
 * answers 401, 403 or 500 as API Gateway does, `api-gateway-authorizer.ts`;
 * what it allows carries its context into every event of the connection),
 * then to the `$connect` function (a non-2xx answer refuses the handshake with that
 * status), each frame goes to `$default` (binary frames base64 encoded), a
 * close goes to `$disconnect`. Where the deployment makes `$default` two-way
 * (a `$default` route response), the function's returned `body` is sent to
 * the client after the invocation, as API Gateway sends a route response;
 * without one it is dropped, as on AWS. Everything else travels through the
 * `@connections` management API, which this class backs.
 *
 * Limits are API Gateway's (`functions/core/aws-limits.ts`): a single frame
 * over `maxFrameBytes` (32 KB) or a message over `maxMessageBytes` (128 KB,
 * however it is fragmented) closes the socket with 1009; a fragmented message
 * within both reaches `$default` as one message. `@connections` data over
 * `maxMessageBytes` is refused, and longer data goes out in frames of at most
 * `maxFrameBytes`, as API Gateway sends it. An idle connection is closed
 * after `idleTimeoutMs`, every connection after `maxConnectionDurationMs`.
 *
 * Local limits of one process standing in for a fleet ({@link LOCAL_GATEWAY_LIMITS}):
 * a connection whose client stops reading is closed with 1013 once its send
 * buffer would pass `sendBufferBytes`; each connection has at most
 * `maxInFlightPerConnection` `$default` invocations running, later frames wait
 * in its own bounded queue (so a flood waits behind itself, not in front of
 * other connections), and a frame past that queue is throttled as API Gateway
 * throttles: a `{"message":"Too Many Requests",…}` frame, connection open.
 * Every connection whose `$connect` succeeded gets exactly one `$disconnect`,
 * however its socket ends.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { MESSAGE_TOO_BIG_CLOSE_CODE, WEBSOCKET_LIMITS } from '../functions/core/aws-limits';
import { frameSlices } from '../functions/core/protocol/frames';
import { type AuthorizerDecision, judgeAuthorizerAnswer, refuseWithoutIdentitySources } from './api-gateway-authorizer';
import {
  authorizerEvent,
  type ConnectionFacts,
  connectEvent,
  connectMethodArn,
  disconnectEvent,
  gatewayId,
  headerValue,
  messageEvent,
  type WebSocketEvent,
} from './api-gateway-events';
import type { LambdaContainers } from './lambda-containers';
import { describeError, type Logger, silentLogger } from './log';
import { FrameSizeInspector } from './websocket-frame-limit';

/**
 * Limits that exist only because one process emulates API Gateway's fleet:
 * AWS buffers and throttles somewhere we cannot see, this process must not
 * let one client take its memory or its function containers.
 */
export const LOCAL_GATEWAY_LIMITS = {
  /**
   * Data waiting to reach one client (`socket.bufferedAmount`: what the socket
   * and `ws` have queued): 1 MiB, eight full 128 KB messages. A `@connections`
   * post that would pass it closes the connection with {@link SEND_BUFFER_FULL_CLOSE_CODE}.
   */
  sendBufferBytes: 1024 * 1024,
  /** After that close, how long a client that still does not read keeps its socket before it is cut. */
  closeGraceMs: 5_000,
  /** `$default` invocations running at once for one connection; the next frames wait in its queue. */
  maxInFlightPerConnection: 8,
  /** Frames one connection may have waiting; past it a frame is throttled ("Too Many Requests"). */
  maxQueuedFramesPerConnection: 256,
  /** Bytes of those waiting frames (2 MiB: 16 full messages). */
  maxQueuedBytesPerConnection: 2 * 1024 * 1024,
} as const;

/**
 * Close code for a client that does not read what it is sent: 1013 "Try Again
 * Later" (RFC 6455 §7.4.1, IANA registry). The client SDK reconnects after
 * any close it did not ask for except a refused handshake, so it comes back
 * and resubscribes.
 */
export const SEND_BUFFER_FULL_CLOSE_CODE = 1013;

/** The gateway's limits; size limits default to API Gateway's, which no stack can change. */
export interface WebSocketLimits {
  /** Largest single frame, in either direction (default `WEBSOCKET_LIMITS.maxFrameBytes`, 32 KB). */
  readonly maxFrameBytes?: number;
  /** Largest message, all its frames together (default `WEBSOCKET_LIMITS.maxMessageBytes`, 128 KB). */
  readonly maxMessageBytes?: number;
  readonly idleTimeoutMs: number;
  readonly maxConnectionDurationMs: number;
  /** Default `LOCAL_GATEWAY_LIMITS.sendBufferBytes`. */
  readonly sendBufferBytes?: number;
  /** Default `LOCAL_GATEWAY_LIMITS.closeGraceMs`. */
  readonly closeGraceMs?: number;
  /** Default `LOCAL_GATEWAY_LIMITS.maxInFlightPerConnection`. */
  readonly maxInFlightPerConnection?: number;
  /** Default `LOCAL_GATEWAY_LIMITS.maxQueuedFramesPerConnection`. */
  readonly maxQueuedFramesPerConnection?: number;
  /** Default `LOCAL_GATEWAY_LIMITS.maxQueuedBytesPerConnection`. */
  readonly maxQueuedBytesPerConnection?: number;
}

/** The function each route integrates with (physical name or ARN), as the API's integrations name them. */
export interface WebSocketRoutes {
  readonly connect: string;
  readonly default: string;
  readonly disconnect: string;
}

/** The `$connect` route's Lambda REQUEST authorizer. */
export interface ConnectAuthorizer {
  /** The function it invokes (physical name or ARN). */
  readonly functionName: string;
  /** Parameters that must be present and non-empty, else 401 without invoking it (`route.request.header.X`, …). */
  readonly identitySources: readonly string[];
}

export interface WebSocketGatewayOptions {
  readonly functions: Pick<LambdaContainers, 'invoke'>;
  readonly routes: WebSocketRoutes;
  /** The API these connections belong to (its id and stage appear in every event; all four in the authorizer's method ARN). */
  readonly api: { readonly id: string; readonly stage: string; readonly region?: string; readonly accountId?: string };
  /** Runs before `$connect` when the deployment's route has one. */
  readonly connectAuthorizer?: ConnectAuthorizer;
  readonly limits: WebSocketLimits;
  /** `$default` has a route response: the body its function returns goes to the client. */
  readonly defaultRouteResponse?: boolean;
  readonly log?: Logger;
}

export interface ConnectionDescription {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent?: string;
  /** Bytes sent to the client that it has not taken yet (`socket.bufferedAmount`). */
  readonly bufferedBytes: number;
  /** Frames waiting for one of the connection's `$default` slots. */
  readonly queuedFrames: number;
}

export type PostOutcome = 'sent' | 'gone' | 'too-large';

export interface GatewayCounters {
  /** `@connections` posts delivered (the functions' `PostToConnection` calls). */
  readonly postToConnection: number;
  /** Route responses delivered (bodies returned by a two-way route's function). */
  readonly routeResponse: number;
}

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
  /** The send buffer overflowed: nothing more is sent, the close is under way. */
  overflowed?: boolean;
  /** `$default` invocations running for this connection. */
  inFlight: number;
  /** Frames waiting for a slot, oldest first. */
  readonly backlog: Array<{ readonly event: WebSocketEvent; readonly bytes: number }>;
  backlogBytes: number;
}

const GOING_AWAY = 1001;

/** Sockets corked in this turn of the event loop. */
const corked = new Set<{ uncork(): void }>();

/**
 * Holds a client socket's writes until the end of this turn of the event
 * loop, so every message sent to it in one turn leaves in one write: a flood
 * of throttled frames (each answered "Too Many Requests") was one syscall per
 * answer, and kept the gateway from every other connection meanwhile. A
 * single reply in a turn still leaves at once, at the end of that turn.
 */
function corkUntilNextTick(socket: WebSocket): void {
  // `ws` keeps the TCP socket in `_socket`; it corks it itself around a frame's header and payload.
  const raw = (socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
  if (!raw || corked.has(raw)) return;
  raw.cork();
  if (corked.size === 0) {
    process.nextTick(() => {
      for (const held of corked) held.uncork();
      corked.clear();
    });
  }
  corked.add(raw);
}

export class WebSocketGateway {
  private readonly connections = new Map<string, LiveConnection>();
  private readonly server: WebSocketServer;
  private readonly chosenProtocols = new WeakMap<IncomingMessage, string>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly log: Logger;
  private readonly maxFrameBytes: number;
  private readonly maxMessageBytes: number;
  private readonly local: { -readonly [K in keyof typeof LOCAL_GATEWAY_LIMITS]: number };
  private closed = false;
  private readonly sent = { postToConnection: 0, routeResponse: 0 };

  constructor(private readonly options: WebSocketGatewayOptions) {
    this.log = options.log ?? silentLogger;
    this.maxFrameBytes = options.limits.maxFrameBytes ?? WEBSOCKET_LIMITS.maxFrameBytes;
    this.maxMessageBytes = options.limits.maxMessageBytes ?? WEBSOCKET_LIMITS.maxMessageBytes;
    const { limits } = options;
    this.local = {
      sendBufferBytes: limits.sendBufferBytes ?? LOCAL_GATEWAY_LIMITS.sendBufferBytes,
      closeGraceMs: limits.closeGraceMs ?? LOCAL_GATEWAY_LIMITS.closeGraceMs,
      maxInFlightPerConnection: limits.maxInFlightPerConnection ?? LOCAL_GATEWAY_LIMITS.maxInFlightPerConnection,
      maxQueuedFramesPerConnection: limits.maxQueuedFramesPerConnection ?? LOCAL_GATEWAY_LIMITS.maxQueuedFramesPerConnection,
      maxQueuedBytesPerConnection: limits.maxQueuedBytesPerConnection ?? LOCAL_GATEWAY_LIMITS.maxQueuedBytesPerConnection,
    };
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
    const outcome = this.deliver(connectionId, data);
    if (outcome === 'sent') this.sent.postToConnection += 1;
    return outcome;
  }

  /** Messages sent to clients so far, by how they were sent (the bench reads them from `/_local/gateway`). */
  counters(): GatewayCounters {
    return { ...this.sent };
  }

  private deliver(connectionId: string, data: Buffer): PostOutcome {
    const connection = this.connections.get(connectionId);
    if (!connection || connection.socket.readyState !== WebSocket.OPEN) return 'gone';
    if (data.length > this.maxMessageBytes) return 'too-large';
    if (connection.overflowed) return 'gone';
    if (connection.socket.bufferedAmount + data.length > this.local.sendBufferBytes) {
      // Checked before sending, so what waits for this client never passes the bound. The router
      // reads 'gone' as 410 and prunes the connection, which is what it is about to be.
      this.closeSlowReader(connection);
      return 'gone';
    }
    // Sent back to back in one turn of the event loop, so no other message can interleave its frames.
    corkUntilNextTick(connection.socket);
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
    // Node's HTTP server stops listening for errors on a socket it hands to 'upgrade': without
    // this, a client resetting the connection while $connect runs would crash the runtime.
    socket.on('error', (error: Error) => this.log.debug(`handshake socket: ${describeError(error)}`));
    if (this.closed) return refuse(socket, 503, 'Service Unavailable');
    // API Gateway answers a request that is no WebSocket handshake itself; $connect never sees it.
    if (!isWebSocketHandshake(request)) return refuse(socket, 400, JSON.stringify({ message: 'Bad Request' }));
    let socketGone = false;
    socket.once('close', () => (socketGone = true));
    const url = new URL(request.url ?? '/', 'http://localhost');
    let facts: ConnectionFacts = {
      apiId: this.options.api.id,
      stage: this.options.api.stage,
      connectionId: gatewayId(),
      connectedAt: Date.now(),
      domainName: headerValue(request.headers, 'host') ?? 'localhost',
      sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      userAgent: headerValue(request.headers, 'user-agent'),
    };
    if (this.options.connectAuthorizer) {
      const decision = await this.authorize(this.options.connectAuthorizer, facts, request, url);
      if (!decision.allowed) {
        this.log.info(`connect ${facts.connectionId} refused ${decision.statusCode} by the authorizer: ${decision.reason}`);
        return refuse(socket, decision.statusCode, decision.body);
      }
      facts = { ...facts, authorizer: decision.context };
    }
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
    // $connect succeeded: API Gateway owes this connection exactly one $disconnect, however the
    // socket ends. Until accept() takes over, that is this function's job.
    let accepted = false;
    const leftDuringHandshake = (): void => {
      if (accepted) return;
      accepted = true;
      this.log.info(`disconnect ${facts.connectionId} 1006 Client left during connect`);
      this.track(this.options.functions.invoke(this.options.routes.disconnect, disconnectEvent(facts, 1006, 'Client left during connect')));
    };
    // A client that half-closed (FIN) is no longer readable but not yet 'close'd; `ws` would
    // destroy such a socket without calling back, so it is caught here or by the 'close' below.
    if (socketGone || this.closed || socket.destroyed || !socket.readable || !socket.writable) {
      socket.destroy();
      return leftDuringHandshake();
    }
    socket.once('close', leftDuringHandshake);
    const protocol = Object.entries(response.headers ?? {}).find(([name]) => name.toLowerCase() === 'sec-websocket-protocol')?.[1];
    if (typeof protocol === 'string') this.chosenProtocols.set(request, protocol);
    // Every way `ws` can fail the upgrade from here destroys the socket, which fires 'close'.
    this.server.handleUpgrade(request, socket, head, (ws) => {
      if (accepted) return void ws.terminate();
      accepted = true;
      socket.off('close', leftDuringHandshake);
      this.accept(ws, facts, socket);
    });
  }

  /** API Gateway's Lambda REQUEST authorizer: identity sources first, then the function, then its answer judged. */
  private async authorize(authorizer: ConnectAuthorizer, facts: ConnectionFacts, request: IncomingMessage, url: URL): Promise<AuthorizerDecision> {
    const { api } = this.options;
    const methodArn = connectMethodArn({ region: api.region ?? 'us-east-1', accountId: api.accountId ?? '000000000000', id: api.id, stage: api.stage });
    const event = authorizerEvent(facts, request.rawHeaders, url.searchParams, methodArn);
    const withoutSources = refuseWithoutIdentitySources(authorizer.identitySources, {
      headers: event.headers as Record<string, string>,
      ...(event.queryStringParameters && { queryStringParameters: event.queryStringParameters as Record<string, string> }),
    });
    if (withoutSources) return withoutSources;
    return judgeAuthorizerAnswer(await this.options.functions.invoke(authorizer.functionName, event), methodArn);
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
      inFlight: 0,
      backlog: [],
      backlogBytes: 0,
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
    if (connection.inFlight < this.local.maxInFlightPerConnection) return this.dispatch(connection, messageEvent(connection.facts, data, isBinary));
    const full =
      connection.backlog.length >= this.local.maxQueuedFramesPerConnection ||
      connection.backlogBytes + data.length > this.local.maxQueuedBytesPerConnection;
    if (full) {
      // What API Gateway sends for a throttled message; the connection stays open. A flood is
      // mostly this path, so it builds no event: a refused frame must cost the gateway little.
      this.log.debug(`throttled a frame of ${connection.facts.connectionId}: ${connection.backlog.length} frames already wait`);
      this.postGatewayError(connection, 'Too Many Requests', gatewayId());
      return;
    }
    const event = messageEvent(connection.facts, data, isBinary);
    connection.backlog.push({ event, bytes: data.length });
    connection.backlogBytes += data.length;
  }

  /**
   * API Gateway invokes the integration per message, concurrently. Here at most
   * `maxInFlightPerConnection` per connection run at once and the rest wait in
   * that connection's queue: the containers' own queue is first come first
   * served, so without this one connection's flood would queue in front of
   * everyone else's frames.
   */
  private dispatch(connection: LiveConnection, event: WebSocketEvent): void {
    connection.inFlight += 1;
    const work = this.options.functions
      .invoke(this.options.routes.default, event)
      .then((outcome) => {
        // What API Gateway sends a client when the integration fails.
        if (!outcome.ok) this.postGatewayError(connection, 'Internal server error', event.requestContext.requestId);
        else if (this.options.defaultRouteResponse) this.sendRouteResponse(connection, outcome.result);
      })
      .finally(() => {
        connection.inFlight -= 1;
        const next = connection.backlog.shift();
        if (next === undefined) return;
        connection.backlogBytes -= next.bytes;
        // Frames a client sent before it left still reach $default, as on AWS; not after a shutdown.
        if (this.closed) return void connection.backlog.splice(0);
        this.dispatch(connection, next.event);
      });
    this.track(work);
  }

  /**
   * A Lambda proxy integration's route response: the returned `body` (a
   * string) becomes one message to the client, with the `@connections` limits;
   * a result without one sends nothing.
   */
  private sendRouteResponse(connection: LiveConnection, result: unknown): void {
    const body = (result as { body?: unknown } | null | undefined)?.body;
    if (typeof body !== 'string') return;
    const { connectionId } = connection.facts;
    const outcome = this.deliver(connectionId, Buffer.from(body));
    if (outcome === 'sent') this.sent.routeResponse += 1;
    else if (outcome === 'too-large') this.log.warn(`dropped a route response to ${connectionId}: over the ${this.maxMessageBytes}-byte message limit`);
  }

  private postGatewayError(connection: LiveConnection, message: string, requestId: string): void {
    const { connectionId } = connection.facts;
    this.deliver(connectionId, Buffer.from(JSON.stringify({ message, connectionId, requestId })));
  }

  /**
   * The client stopped reading: queue nothing more, send the close frame after
   * what is already buffered (a client that reads again sees the code), and
   * cut the socket if it still does not read within `closeGraceMs`.
   */
  private closeSlowReader(connection: LiveConnection): void {
    if (connection.overflowed) return;
    connection.overflowed = true;
    connection.closeCode = SEND_BUFFER_FULL_CLOSE_CODE;
    connection.closeReason = 'Send buffer full: the client does not read';
    const { connectionId } = connection.facts;
    this.log.info(`closing ${connectionId}: over ${this.local.sendBufferBytes} bytes wait for the client to read`);
    connection.socket.close(SEND_BUFFER_FULL_CLOSE_CODE, 'Send buffer full');
    const cut = setTimeout(() => connection.socket.terminate(), this.local.closeGraceMs);
    connection.socket.once('close', () => clearTimeout(cut));
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
    bufferedBytes: connection.socket.bufferedAmount,
    queuedFrames: connection.backlog.length,
  };
}

/** What `ws` would refuse with 400 (RFC 6455 §4.2.1), checked before $connect runs. */
function isWebSocketHandshake(request: IncomingMessage): boolean {
  const key = headerValue(request.headers, 'sec-websocket-key');
  const version = headerValue(request.headers, 'sec-websocket-version');
  const upgrade = headerValue(request.headers, 'upgrade');
  return (
    request.method === 'GET' &&
    upgrade?.toLowerCase() === 'websocket' &&
    key !== undefined &&
    /^[+/0-9A-Za-z]{22}==$/.test(key) &&
    (version === '8' || version === '13')
  );
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
