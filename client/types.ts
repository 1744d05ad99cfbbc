/**
 * The client's public types: options, typed action maps, events and the
 * WebSocket shape it needs (so browsers, Node's `ws` and test doubles all fit).
 */
import type { ProgressMessage } from '../functions/core/protocol/messages';
import type { StreamerError } from './errors';

/**
 * The part of the WebSocket API the client uses: the browser's `WebSocket`
 * and the `ws` package both satisfy it.
 *
 * @example
 * const socket: WebSocketLike = new WebSocket('ws://127.0.0.1:3001?token=…');
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/**
 * A WebSocket constructor: `globalThis.WebSocket` in browsers, `ws` in Node.
 *
 * @example
 * import WebSocket from 'ws';
 * new StreamerClient(url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
 */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * The shape of one action in a typed action map.
 *
 * @example
 * type Report = ActionSpec<{ rows: number }, { summary: string }>;
 */
export interface ActionSpec<Payload extends object = Record<string, unknown>, Result = unknown> {
  readonly payload: Payload;
  readonly result: Result;
}

/**
 * A map of action name → {@link ActionSpec}: pass it as the client's type
 * parameter to get typed `request` calls.
 *
 * @example
 * interface MyActions {
 *   generate_report: { payload: { rows: number; stepDelayMs?: number }; result: { summary: string } };
 * }
 * const client = new StreamerClient<MyActions>(url, { token });
 * const report = await client.request('generate_report', { rows: 100 }); // report.summary: string
 */
export type ActionMap<A> = { [K in keyof A]: ActionSpec<object, unknown> };

/**
 * The action map of an untyped client: any action, an object payload, an unknown result.
 *
 * @example
 * const client = new StreamerClient(url, { token }); // StreamerClient<AnyActions>
 */
export interface AnyActions {
  readonly [action: string]: ActionSpec<Record<string, unknown>, unknown>;
}

/**
 * A token, or a function returning one; the function is called before every
 * (re)connect, so it is the place to refresh an expiring token.
 *
 * @example
 * const token: TokenSource = async () => (await fetch('/session/token').then((r) => r.json())).token;
 */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * The connection's state.
 *
 * - `idle`: not started (`autoConnect: false` and no `connect()` yet)
 * - `connecting`: first connection under way
 * - `open`: connected; requests are sent at once
 * - `reconnecting`: the connection dropped; a new one is scheduled or under way
 * - `closed`: stopped for good (`close()`, a refused token, or reconnect attempts exhausted)
 *
 * @example
 * if (client.state === 'open') console.log('live');
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * Reconnect policy: jittered exponential backoff, bounded by `maxDelayMs`.
 * The n-th consecutive attempt waits `min(maxDelayMs, initialDelayMs * factor^n)`,
 * minus up to `jitter` of it at random (so clients dropped together do not
 * return together).
 *
 * @example
 * new StreamerClient(url, { token, reconnect: { initialDelayMs: 250, maxDelayMs: 10_000, maxAttempts: 20 } });
 */
export interface ReconnectOptions {
  /** Delay before the first reconnect attempt (default 500 ms). */
  readonly initialDelayMs?: number;
  /** Upper bound of any delay (default 30 000 ms). */
  readonly maxDelayMs?: number;
  /** Growth per failed attempt (default 2). */
  readonly factor?: number;
  /** Fraction of each delay taken off at random, 0..1 (default 0.5). */
  readonly jitter?: number;
  /** Reconnect attempts in a row without an open connection before giving up with `DISCONNECTED` (default: never give up). */
  readonly maxAttempts?: number;
}

/**
 * Heartbeat policy: a `ping` every `intervalMs`; no `pong` within
 * `timeoutMs` closes the socket and reconnects. API Gateway drops
 * connections idle for 10 minutes, so the default interval keeps them alive.
 *
 * @example
 * new StreamerClient(url, { token, heartbeat: { intervalMs: 15_000, timeoutMs: 5_000 } });
 */
export interface HeartbeatOptions {
  /** Time between pings while connected (default 60 000 ms; each ping is a Lambda invocation on AWS). */
  readonly intervalMs?: number;
  /** How long to wait for the `pong` (default 10 000 ms). */
  readonly timeoutMs?: number;
}

/**
 * What the client tells `onDisconnect`.
 *
 * @example
 * onDisconnect: ({ code, willReconnect }) => console.log(`closed ${code}`, willReconnect ? 'retrying' : 'for good')
 */
export interface DisconnectInfo {
  /** The WebSocket close code (1006 when the connection failed or was cut). */
  readonly code: number;
  readonly reason: string;
  /** Whether the client will try again (false after `close()` or a fatal error). */
  readonly willReconnect: boolean;
}

/**
 * Options of a {@link StreamerClient}.
 *
 * @example
 * const client = new StreamerClient('ws://127.0.0.1:3001', {
 *   token: () => fetchFreshToken(),
 *   whileDisconnected: 'fail',
 *   onConnect: () => console.log('connected'),
 * });
 */
export interface StreamerClientOptions {
  /** A JWT or a token provider, sent as `?token=` on every (re)connect. */
  readonly token?: TokenSource;
  /** The WebSocket implementation; defaults to `globalThis.WebSocket` (Node: use `@streamer/client/node`). */
  readonly WebSocket?: WebSocketConstructor;
  /** Connect in the constructor (default true); otherwise call `connect()`. */
  readonly autoConnect?: boolean;
  /** Reconnect policy, or `false` to never reconnect. */
  readonly reconnect?: ReconnectOptions | false;
  /** Heartbeat policy, or `false` to send no pings. */
  readonly heartbeat?: HeartbeatOptions | false;
  /**
   * What `request`/`status`/`subscribe`/`cancel` do while the connection is
   * down: `queue` (default) sends them once it is back; `fail` rejects at
   * once with `DISCONNECTED`.
   */
  readonly whileDisconnected?: 'queue' | 'fail';
  /** Default `timeoutMs` of every request (default: none). */
  readonly requestTimeoutMs?: number;
  /** Called every time a connection opens (first connect and each reconnect). */
  readonly onConnect?: () => void;
  /** Called every time an open connection closes, or an attempt fails. */
  readonly onDisconnect?: (info: DisconnectInfo) => void;
  /** Called for connection-level errors (refused token, gave up, unattributable server error). */
  readonly onError?: (error: StreamerError) => void;
  /** Called on every state change. */
  readonly onStateChange?: (state: ConnectionState) => void;
  /** Called for server `broadcast` messages (a protocol extension). */
  readonly onBroadcast?: (topic: string, data: unknown) => void;
}

/**
 * Options of one {@link StreamerClient.request} call.
 *
 * @example
 * const controller = new AbortController();
 * await client.request('generate_report', { rows: 10 }, {
 *   onProgress: (p) => console.log(Math.round(p.progress * 100), p.message),
 *   signal: controller.signal,
 *   timeoutMs: 60_000,
 * });
 */
export interface RequestOptions {
  /** Called for each progress update (async handlers), in order, never with a lower fraction. */
  readonly onProgress?: (progress: ProgressMessage) => void;
  /** Called once with the server's `requestId` when an async request is accepted. */
  readonly onAccepted?: (requestId: string) => void;
  /** Aborting rejects with `CANCELLED` and cancels the request on the server. */
  readonly signal?: AbortSignal;
  /** Rejects with `TIMEOUT` (and cancels on the server) when no result came in time. */
  readonly timeoutMs?: number;
  /**
   * The request's idempotency key (at most 128 characters, no control
   * characters): the same key from the same user and tenant, within the
   * request TTL, gets the request it started instead of a new one (its
   * `requestId`, its progress so far, then the rest). Use one key per
   * logical operation (an order id, a form submission) to make retries from
   * anywhere (another tab, a process restart) safe. Default: a random key
   * per call, which makes the client's own resend after a drop safe. Sync
   * handlers store nothing, so for them a repeated key runs them again.
   */
  readonly idempotencyKey?: string;
  /**
   * When the connection drops after the request was sent but before its
   * `ack`, send it again (with the same idempotency key) on the next
   * connection: default true. An async request then runs once; a sync
   * handler may run again. False rejects with a retryable `DISCONNECTED`
   * instead.
   */
  readonly resendOnReconnect?: boolean;
}
