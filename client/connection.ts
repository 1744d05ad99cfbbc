/**
 * One logical connection over many sockets: opens a WebSocket with a fresh
 * token, keeps it alive with `ping`, and replaces it with jittered backoff
 * when it drops. It knows nothing about requests: it hands parsed server
 * messages to its owner and tells it when sockets open and close.
 */
import type { ServerMessage } from '../functions/core/protocol/messages';
import { backoffDelay, reconnectPolicy, type ReconnectPolicy } from './backoff';
import { StreamerError } from './errors';
import type {
  ConnectionState,
  DisconnectInfo,
  HeartbeatOptions,
  ReconnectOptions,
  TokenSource,
  WebSocketConstructor,
  WebSocketLike,
} from './types';

const OPEN = 1;
/** Close code the client uses when it gives up on a silent socket (4000–4999 is free for applications). */
export const HEARTBEAT_CLOSE_CODE = 4000;
/** Close code of a `close()` by the application. */
export const NORMAL_CLOSE_CODE = 1000;
/** What browsers report for a connection that failed or was cut without a close frame. */
const ABNORMAL_CLOSE_CODE = 1006;

/**
 * Defaults of {@link HeartbeatOptions}. On AWS every ping is a router Lambda
 * invocation, so the interval trades dead-connection detection for cost; it
 * stays far below API Gateway's 10-minute idle timeout.
 */
export const DEFAULT_HEARTBEAT: Required<HeartbeatOptions> = { intervalMs: 60_000, timeoutMs: 10_000 };

/** What a {@link Connection} needs from its owner. */
export interface ConnectionOptions {
  readonly url: string;
  readonly token?: TokenSource;
  readonly WebSocket: WebSocketConstructor;
  readonly reconnect: ReconnectOptions | false;
  readonly heartbeat: HeartbeatOptions | false;
  /** Ids for heartbeat pings, from the owner's id generator so they never collide with request ids. */
  readonly nextId: () => string;
}

/** What a {@link Connection} tells its owner. */
export interface ConnectionEvents {
  readonly onOpen: () => void;
  readonly onMessage: (message: ServerMessage) => void;
  readonly onClose: (info: DisconnectInfo) => void;
  /** The connection stopped for good with this error (state is `closed`). */
  readonly onFatal: (error: StreamerError) => void;
  readonly onStateChange: (state: ConnectionState) => void;
}

/** The socket lifecycle behind a `StreamerClient`: connect, heartbeat, reconnect, give up. */
export class Connection {
  private currentState: ConnectionState = 'idle';
  private socket: WebSocketLike | null = null;
  /** Reconnects scheduled since the last open socket: the backoff exponent. */
  private reconnectAttempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private pendingPingId: string | null = null;
  /** Whether any socket ever opened: "could not connect" and "connection lost" are different stories. */
  private everOpened = false;
  /** Bumped whenever a socket is abandoned, so late callbacks of old sockets are ignored. */
  private generation = 0;
  private readonly policy: ReconnectPolicy | null;
  private readonly heartbeat: Required<HeartbeatOptions> | null;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.policy = options.reconnect === false ? null : reconnectPolicy(options.reconnect);
    this.heartbeat = options.heartbeat === false ? null : { ...DEFAULT_HEARTBEAT, ...definedOnly(options.heartbeat) };
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Starts connecting (no-op when already connecting or open). */
  start(): void {
    if (this.currentState === 'connecting' || this.currentState === 'open' || this.currentState === 'reconnecting') return;
    this.reconnectAttempts = 0;
    this.setState('connecting');
    void this.openSocket();
  }

  /** Sends one frame; false when no socket is open (the caller queues or fails). */
  send(frame: string): boolean {
    if (this.currentState !== 'open' || this.socket === null || this.socket.readyState !== OPEN) return false;
    this.socket.send(frame);
    return true;
  }

  /** Closes for good: no reconnect. */
  stop(reason = 'client closed'): void {
    if (this.currentState === 'closed') return;
    const wasOpen = this.currentState === 'open';
    // Graceful: frames sent just before (a cancel, say) still reach the server.
    this.abandonSocket(NORMAL_CLOSE_CODE, reason, true);
    this.clearReconnectTimer();
    this.setState('closed');
    if (wasOpen) this.events.onClose({ code: NORMAL_CLOSE_CODE, reason, willReconnect: false });
  }

  /** Called by the owner for every `pong`; true when it answered our heartbeat. */
  acceptPong(id: string): boolean {
    if (id !== this.pendingPingId) return false;
    this.pendingPingId = null;
    if (this.pongTimer !== null) clearTimeout(this.pongTimer);
    this.pongTimer = null;
    this.scheduleHeartbeat();
    return true;
  }

  private async openSocket(): Promise<void> {
    const generation = ++this.generation;
    let token: string | undefined;
    try {
      token = await resolveToken(this.options.token);
    } catch (error) {
      // A provider that throws says "no identity": retrying cannot help.
      if (generation === this.generation) {
        this.fail(new StreamerError('UNAUTHORIZED', `The token provider failed: ${messageOf(error)}`, { cause: error }));
      }
      return;
    }
    if (generation !== this.generation || this.currentState === 'closed') return;

    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocket(withToken(this.options.url, token));
    } catch (error) {
      this.fail(new StreamerError('DISCONNECTED', `Cannot open a WebSocket to ${this.options.url}: ${messageOf(error)}`, { retryable: false, cause: error }));
      return;
    }
    this.socket = socket;
    let opened = false;
    let handshakeStatus: number | undefined;

    socket.onopen = () => {
      if (generation !== this.generation) return;
      opened = true;
      this.everOpened = true;
      this.reconnectAttempts = 0;
      this.setState('open');
      this.scheduleHeartbeat();
      this.events.onOpen();
    };
    socket.onmessage = (event) => {
      if (generation !== this.generation) return;
      const message = parseServerMessage(event.data);
      if (message === null) return; // Not ours to interpret: a client must ignore what it does not understand.
      if (message.type === 'pong' && this.acceptPong(message.id)) return;
      this.events.onMessage(message);
    };
    socket.onerror = (event) => {
      handshakeStatus ??= handshakeStatusOf(event);
    };
    socket.onclose = (event) => {
      if (generation !== this.generation) return;
      this.socket = null;
      this.stopHeartbeat();
      if (!opened && (handshakeStatus === 401 || handshakeStatus === 403)) {
        this.fail(
          new StreamerError(handshakeStatus === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', `The server refused the connection (HTTP ${handshakeStatus}): check the token`, {
            details: { httpStatus: handshakeStatus },
          }),
          { code: event.code, reason: event.reason },
        );
        return;
      }
      this.dropped({ code: event.code, reason: event.reason });
    };
  }

  /** A socket closed or failed without the application asking: reconnect if the policy allows. */
  private dropped(close: { code: number; reason: string }): void {
    const policy = this.policy;
    if (policy === null || this.reconnectAttempts >= policy.maxAttempts) {
      const why = policy === null ? 'reconnect is disabled' : `gave up after ${this.reconnectAttempts} reconnect attempts`;
      const what = this.everOpened ? 'Connection lost' : `Could not connect to ${this.options.url}`;
      this.fail(new StreamerError('DISCONNECTED', `${what} (close code ${close.code}${close.reason ? `: ${close.reason}` : ''}); ${why}`, { details: { closeCode: close.code } }), close);
      return;
    }
    this.setState('reconnecting');
    this.events.onClose({ ...close, willReconnect: true });
    const delay = backoffDelay(policy, this.reconnectAttempts++);
    this.clearReconnectTimer();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.currentState === 'reconnecting') void this.openSocket();
    }, delay);
  }

  private fail(error: StreamerError, close?: { code: number; reason: string }): void {
    this.abandonSocket(ABNORMAL_CLOSE_CODE, error.message);
    this.clearReconnectTimer();
    this.setState('closed');
    this.events.onClose({ code: close?.code ?? ABNORMAL_CLOSE_CODE, reason: close?.reason ?? error.message, willReconnect: false });
    this.events.onFatal(error);
  }

  private scheduleHeartbeat(): void {
    const heartbeat = this.heartbeat;
    if (heartbeat === null) return;
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      const id = this.options.nextId();
      if (!this.send(JSON.stringify({ id, action: 'ping', payload: {} }))) return;
      this.pendingPingId = id;
      this.pongTimer = setTimeout(() => this.heartbeatLost(), heartbeat.timeoutMs);
    }, heartbeat.intervalMs);
  }

  private heartbeatLost(): void {
    this.pongTimer = null;
    if (this.currentState !== 'open') return;
    // A silent peer will not finish a close handshake either: drop the socket
    // now instead of waiting for the implementation's close timeout.
    const reason = 'no pong: heartbeat timed out';
    this.abandonSocket(HEARTBEAT_CLOSE_CODE, reason);
    this.dropped({ code: HEARTBEAT_CLOSE_CODE, reason });
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    if (this.pongTimer !== null) clearTimeout(this.pongTimer);
    this.heartbeatTimer = null;
    this.pongTimer = null;
    this.pendingPingId = null;
  }

  /** Detaches the current socket; `graceful` sends a close frame after queued data, otherwise it is cut at once. */
  private abandonSocket(code: number, reason: string, graceful = false): void {
    this.generation++;
    this.stopHeartbeat();
    const socket = this.socket;
    this.socket = null;
    if (socket === null) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    // Keep an error listener: `ws` throws on an 'error' event nobody listens to.
    socket.onerror = () => {};
    try {
      const terminate = (socket as { terminate?: () => void }).terminate;
      if (!graceful && typeof terminate === 'function') terminate.call(socket);
      else socket.close(code, truncateReason(reason));
    } catch {
      // Closing a socket that is still connecting may throw in some implementations; it is gone either way.
    }
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.events.onStateChange(state);
  }
}

/** A close reason must fit in 123 UTF-8 bytes; keep well inside. */
function truncateReason(reason: string): string {
  return reason.length > 60 ? `${reason.slice(0, 57)}...` : reason;
}

async function resolveToken(source: TokenSource | undefined): Promise<string | undefined> {
  if (source === undefined) return undefined;
  return typeof source === 'function' ? await source() : source;
}

/** The URL with `token` set in the query string: browsers cannot send an Authorization header on a WebSocket. */
export function withToken(url: string, token: string | undefined): string {
  if (token === undefined || token === '') return url;
  const parsed = new URL(url);
  parsed.searchParams.set('token', token);
  return parsed.toString();
}

/**
 * The HTTP status of a refused handshake, when the WebSocket implementation
 * reveals it. `ws` reports "Unexpected server response: 401"; browsers hide
 * the status entirely (a refused token looks like a network failure there).
 */
function handshakeStatusOf(event: unknown): number | undefined {
  const candidate = event as { statusCode?: unknown; message?: unknown; error?: { message?: unknown } } | null;
  if (candidate === null || typeof candidate !== 'object') return undefined;
  if (typeof candidate.statusCode === 'number') return candidate.statusCode;
  const text = typeof candidate.message === 'string' ? candidate.message : candidate.error?.message;
  const match = typeof text === 'string' ? /Unexpected server response: (\d{3})/.exec(text) : null;
  return match ? Number(match[1]) : undefined;
}

/** A frame → a server message, or null for anything malformed (never throws). */
export function parseServerMessage(data: unknown): ServerMessage | null {
  if (typeof data !== 'string') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const message = parsed as { type?: unknown; id?: unknown };
  if (typeof message.type !== 'string') return null;
  if (message.id !== null && typeof message.id !== 'string') return null;
  return parsed as ServerMessage;
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
