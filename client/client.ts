/**
 * `StreamerClient`: requests with progress over one self-healing WebSocket.
 *
 * Every reply carries the client's `id`, and every message about an async
 * request carries its `requestId`; the client correlates by either, so
 * progress that overtakes its `ack` and updates that arrive through a
 * resubscription after a reconnect both land on the right request.
 */
import { WEBSOCKET_LIMITS } from '../functions/core/aws-limits';
import type { ErrorMessage, JsonObject, ProgressMessage, RequestView, ServerMessage } from '../functions/core/protocol/messages';
import { Connection } from './connection';
import { StreamerError } from './errors';
import { invokeListener } from './listener';
import { ProgressSequence, type RequestEvent } from './progress-sequence';
import { SubscriptionChannel, type SubscribeOptions, type Subscription } from './subscription';
import type { ActionMap, AnyActions, ConnectionState, RequestOptions, StreamerClientOptions, WebSocketConstructor } from './types';

/**
 * API Gateway's message limit (128 KiB, UTF-8 bytes of the whole request
 * frame as JSON): a bigger request is refused with `PAYLOAD_TOO_LARGE`
 * before it is sent.
 *
 * @example
 * if (new TextEncoder().encode(JSON.stringify(payload)).length > MAX_MESSAGE_BYTES - 512) uploadElsewhere(payload);
 */
export const MAX_MESSAGE_BYTES: number = WEBSOCKET_LIMITS.maxMessageBytes;

/**
 * API Gateway's frame limit (32 KiB): it closes the connection with 1009 on
 * any larger WebSocket frame. The Node entry (`@streamer/client/node`) sends
 * a longer message as fragments of at most this size; a browser sends every
 * message as one frame, so there a message over this size is lost with the
 * connection.
 *
 * @example
 * const fitsOneFrame = new TextEncoder().encode(JSON.stringify(request)).length <= MAX_FRAME_BYTES;
 */
export const MAX_FRAME_BYTES: number = WEBSOCKET_LIMITS.maxFrameBytes;

/** A request this client sent (or will send) and still owes its caller an outcome. */
interface PendingRequest {
  readonly id: string;
  readonly action: string;
  /** The request message, with its idempotency key: sent again as it is after a drop before the `ack`. */
  readonly frame: string;
  requestId?: string;
  /** The frame went out on some socket (the server may have it). */
  sent: boolean;
  /** The caller gave up (abort or timeout): the outcome is discarded and the request cancelled on the server. */
  abandoned: boolean;
  /** Orders the request's progress and final message by `seq`. */
  readonly sequence: ProgressSequence;
  readonly options: RequestOptions;
  readonly resolve: (data: unknown) => void;
  readonly reject: (error: StreamerError) => void;
  readonly dispose: () => void;
}

/** A built-in action awaiting its reply (`status`, `subscribe`, `cancel`, …); safe to send again after a reconnect. */
interface PendingControl {
  readonly frame: string;
  readonly expect: ServerMessage['type'];
  readonly resolve: (message: ServerMessage) => void;
  readonly reject: (error: StreamerError) => void;
}

interface OutgoingFrame {
  readonly id: string;
  readonly frame: string;
  /** Marks a request as sent once its frame is on the wire. */
  readonly onSent?: () => void;
}

/**
 * A Streamer client for browsers and Node. One instance holds one logical
 * connection (reconnected as needed) and any number of concurrent requests.
 * In Node 20, import it from `client/node` (which supplies `ws`); in
 * browsers and Node ≥ 22, `globalThis.WebSocket` is used.
 *
 * @typeParam A - the application's action map, for typed `request` calls
 *
 * @example
 * const client = new StreamerClient('ws://127.0.0.1:3001', { token, onConnect: () => console.log('connected') });
 * const echoed = await client.request('echo', { hello: 'world' });
 * const report = await client.request('generate_report', { rows: 500 }, {
 *   onProgress: (p) => console.log(`${Math.round(p.progress * 100)}% ${p.message ?? ''}`),
 * });
 * client.close();
 */
export class StreamerClient<A extends ActionMap<A> = AnyActions> {
  private readonly connection: Connection;
  private readonly options: StreamerClientOptions;
  private readonly requests = new Map<string, PendingRequest>();
  private readonly requestsByRequestId = new Map<string, PendingRequest>();
  private readonly controls = new Map<string, PendingControl>();
  private readonly subscriptions = new Map<string, Set<SubscriptionChannel<unknown>>>();
  /** Replays (`subscribe` with `afterSeq`) in flight on the current socket, by requestId. */
  private readonly resuming = new Map<string, { followUp: boolean }>();
  private outbox: OutgoingFrame[] = [];
  private counter = 0;
  private readonly idSuffix = randomSuffix();
  private fatalError: StreamerError | null = null;
  private readyWaiters: Array<{ resolve: () => void; reject: (error: StreamerError) => void }> = [];
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();

  /**
   * @param url - the WebSocket URL (`wss://…/stage` on AWS, `ws://127.0.0.1:3001` locally), without the token
   * @param options - token, WebSocket implementation, reconnect/heartbeat policies, events
   *
   * @example
   * const client = new StreamerClient('wss://abc.execute-api.eu-west-1.amazonaws.com/prod', { token: () => auth.getToken() });
   */
  constructor(url: string, options: StreamerClientOptions = {}) {
    this.options = options;
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketImpl === undefined) {
      throw new TypeError('No WebSocket implementation: pass the `WebSocket` option (in Node 20, import StreamerClient from the `node` entry)');
    }
    this.connection = new Connection(
      {
        url,
        token: options.token,
        WebSocket: WebSocketImpl,
        reconnect: options.reconnect ?? {},
        heartbeat: options.heartbeat ?? {},
        nextId: () => this.nextId('hb'),
      },
      {
        onOpen: () => this.handleOpen(),
        onMessage: (message) => this.handleMessage(message),
        onClose: (info) => {
          this.handleSocketLost();
          invokeListener(this.options.onDisconnect, info);
        },
        onFatal: (error) => this.handleFatal(error),
        onStateChange: (state) => {
          invokeListener(this.options.onStateChange, state);
          for (const listener of [...this.stateListeners]) invokeListener(listener, state);
        },
      },
    );
    if (options.autoConnect ?? true) this.connect();
  }

  /**
   * The connection's state.
   *
   * @example
   * statusBadge.textContent = client.state; // 'open', 'reconnecting', …
   */
  get state(): ConnectionState {
    return this.connection.state;
  }

  /**
   * Calls `listener` on every state change from now on (as the
   * `onStateChange` option does, for code that did not create the client,
   * such as UI bindings); returns the function that stops it.
   *
   * @example
   * const stop = client.addStateListener((state) => (badge.textContent = state));
   * stop();
   */
  addStateListener(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  /**
   * Starts connecting (done by the constructor unless `autoConnect: false`);
   * after `close()` or a fatal error, starts over.
   *
   * @example
   * const client = new StreamerClient(url, { token, autoConnect: false });
   * client.connect();
   */
  connect(): void {
    this.fatalError = null;
    this.connection.start();
  }

  /**
   * Resolves once the connection is open; rejects if it stops for good first
   * (e.g. `UNAUTHORIZED`).
   *
   * @example
   * await client.ready();
   */
  ready(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state === 'closed' || this.state === 'idle') {
      return Promise.reject(this.fatalError ?? new StreamerError('DISCONNECTED', 'The client is not connecting: call connect()'));
    }
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /**
   * Closes the connection for good; every unfinished request, call and
   * subscription rejects with `DISCONNECTED`. Requests keep running on the
   * server: another client can `subscribe` to them.
   *
   * @example
   * process.on('SIGTERM', () => client.close());
   */
  close(): void {
    this.failEverything(new StreamerError('DISCONNECTED', 'The client was closed', { retryable: false }));
    this.connection.stop();
  }

  /**
   * Runs an action and resolves with its result `data`; the same call for
   * quick (sync: one `result`) and long (async: `ack`, progress, final)
   * handlers. Rejects with a {@link StreamerError}: the server's error,
   * `CANCELLED` on abort, `TIMEOUT` after `timeoutMs`, `DISCONNECTED` when the
   * connection is down (with `whileDisconnected: 'fail'`), or was lost before
   * the request was acknowledged with `resendOnReconnect: false`.
   *
   * Every request carries an idempotency key (`idempotencyKey`, or one the
   * client makes up), so when the connection drops before the `ack` the
   * client sends it again on the next connection and the server answers with
   * the request it already started, if it did: an async job never runs twice.
   *
   * @example
   * const controller = new AbortController();
   * const report = await client.request('generate_report', { rows: 1000 }, {
   *   onProgress: ({ progress, message }) => console.log(progress, message),
   *   signal: controller.signal,
   *   timeoutMs: 120_000,
   * });
   */
  request<K extends keyof A & string>(action: K, payload: A[K]['payload'], options: RequestOptions = {}): Promise<A[K]['result']> {
    return new Promise<A[K]['result']>((resolve, reject) => {
      const refusal = this.refusalFor(options.signal);
      if (refusal !== null) return reject(refusal);
      const id = this.nextId('c');
      const idempotencyKey = options.idempotencyKey ?? randomKey();
      const frame = JSON.stringify({ id, action, payload: payload ?? {}, idempotencyKey });
      const tooLarge = frameTooLarge(frame);
      if (tooLarge !== null) return reject(tooLarge);

      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => this.abandon(entry, cancelledError(options.signal?.reason));
      const entry: PendingRequest = {
        id,
        action,
        frame,
        sent: false,
        abandoned: false,
        sequence: new ProgressSequence((event) => this.settleRequest(entry, event)),
        options,
        resolve: (data) => resolve(data as A[K]['result']),
        reject,
        dispose: () => {
          if (timer !== undefined) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      };
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            this.abandon(
              entry,
              new StreamerError('TIMEOUT', `No result for "${action}" within ${timeoutMs} ms`, { details: { timeoutMs, source: 'client' } }),
            ),
          timeoutMs,
        );
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.requests.set(id, entry);
      this.transmit({
        id,
        frame,
        onSent: () => {
          entry.sent = true;
        },
      });
    });
  }

  /**
   * Reads a request's stored state (only the user who made it may).
   *
   * @example
   * const view = await client.status(requestId);
   * console.log(view.status, view.progress);
   */
  async status(requestId: string): Promise<RequestView> {
    const reply = await this.call('status', { requestId }, 'status');
    return (reply as Extract<ServerMessage, { type: 'status' }>).request;
  }

  /**
   * Cancels a request on the server; resolves when the server confirmed
   * (`cancelled`). The request then ends with a `CANCELLED` error.
   *
   * @example
   * await client.cancel(requestId);
   */
  async cancel(requestId: string): Promise<void> {
    await this.call('cancel', { requestId }, 'cancelled');
  }

  /**
   * Watches a request (started by this client, another tab, or an earlier
   * session): progress updates, then its one final message. If the request
   * has already ended, the final message arrives at once. The subscription
   * is renewed on every reconnect.
   *
   * @example
   * const subscription = client.subscribe<{ summary: string }>(requestId);
   * for await (const event of subscription) {
   *   if (event.type === 'progress') console.log(event.progress, event.message);
   *   else if (event.type === 'result') console.log('done', event.data);
   * }
   */
  subscribe<Result = unknown>(requestId: string, options: SubscribeOptions = {}): Subscription<Result> {
    const channel = new SubscriptionChannel<Result>(
      requestId,
      options,
      (c) => this.unsubscribeChannel(c as SubscriptionChannel<unknown>),
      () => this.resume(requestId),
    );
    const refusal = this.refusalFor(undefined);
    if (refusal !== null) {
      channel.fail(refusal);
      return channel;
    }
    let channels = this.subscriptions.get(requestId);
    if (channels === undefined) this.subscriptions.set(requestId, (channels = new Set()));
    channels.add(channel as SubscriptionChannel<unknown>);
    // While not connected, the next open resumes every channel (handleOpen); resume sends nothing until then.
    this.resume(requestId);
    return channel;
  }

  // ---------------------------------------------------------------- internals

  private nextId(prefix: string): string {
    this.counter += 1;
    return `${prefix}-${this.counter}-${this.idSuffix}`;
  }

  /** Why a new call cannot start right now, or null when it can (sent now or queued). */
  private refusalFor(signal: AbortSignal | undefined): StreamerError | null {
    if (signal?.aborted) return cancelledError(signal.reason);
    const state = this.state;
    if (state === 'closed' || state === 'idle') {
      return this.fatalError ?? new StreamerError('DISCONNECTED', 'The client is closed: call connect() first', { retryable: false });
    }
    if (state !== 'open' && this.options.whileDisconnected === 'fail') {
      return new StreamerError('DISCONNECTED', `Not connected (${state}); whileDisconnected is 'fail'`);
    }
    return null;
  }

  /** Sends now when connected, else queues until the next open socket. */
  private transmit(outgoing: OutgoingFrame): void {
    if (this.connection.send(outgoing.frame)) outgoing.onSent?.();
    else this.outbox.push(outgoing);
  }

  /** Sends a built-in action and resolves with its reply of type `expect` (or rejects with its error). */
  private call(action: string, payload: JsonObject, expect: ServerMessage['type'], internal = false): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      if (!internal) {
        const refusal = this.refusalFor(undefined);
        if (refusal !== null) return reject(refusal);
      }
      const id = this.nextId('c');
      const frame = JSON.stringify({ id, action, payload });
      this.controls.set(id, { frame, expect, resolve, reject });
      this.transmit({ id, frame });
    });
  }

  /** The caller stopped waiting: settle now, and stop the work on the server if it may be running. */
  private abandon(entry: PendingRequest, error: StreamerError): void {
    if (entry.abandoned || !this.requests.has(entry.id)) return;
    entry.abandoned = true;
    entry.dispose();
    entry.reject(error);
    if (!entry.sent) {
      // Never left this process: nothing to cancel.
      this.outbox = this.outbox.filter((o) => o.id !== entry.id);
      this.forget(entry);
    } else if (entry.requestId !== undefined) {
      this.sendCancel(entry.requestId);
      this.forget(entry);
    }
    // Otherwise the ack has not come yet: `handleMessage` cancels once it learns the requestId.
  }

  private sendCancel(requestId: string): void {
    this.call('cancel', { requestId }, 'cancelled', true).catch(() => {
      // Best effort: the request may have ended meanwhile (NOT_FOUND) — nothing left to stop.
    });
  }

  private forget(entry: PendingRequest): void {
    this.requests.delete(entry.id);
    if (entry.requestId !== undefined && this.requestsByRequestId.get(entry.requestId) === entry) {
      this.requestsByRequestId.delete(entry.requestId);
    }
  }

  /**
   * Subscribes this connection to a request with `afterSeq`: the server
   * replays what the request's followers here (the awaiting `request` call,
   * the subscriptions) have not seen, then `subscribed`, then live updates.
   * Used on every (re)connect, for a new subscription, and whenever a gap in
   * `seq` shows a message was missed. One replay per request at a time; a gap
   * found meanwhile asks for one more once it is over.
   */
  private resume(requestId: string): void {
    const running = this.resuming.get(requestId);
    if (running !== undefined) {
      running.followUp = true;
      return;
    }
    // Not connected: the next open resumes every request and subscription.
    if (this.state !== 'open') return;
    const entry = this.requestsByRequestId.get(requestId);
    const channels = this.subscriptions.get(requestId) ?? new Set<SubscriptionChannel<unknown>>();
    const sequences = [...(entry !== undefined && !entry.abandoned ? [entry.sequence] : []), ...[...channels].map((c) => c.sequence)];
    if (sequences.length === 0) return;
    const afterSeq = Math.min(...sequences.map((sequence) => sequence.afterSeq));
    const attempt = { followUp: false };
    this.resuming.set(requestId, attempt);
    const done = (): boolean => {
      if (this.resuming.get(requestId) !== attempt) return false;
      this.resuming.delete(requestId);
      return true;
    };
    this.call('subscribe', { requestId, afterSeq }, 'subscribed', true).then(
      () => {
        if (!done()) return;
        for (const channel of this.subscriptions.get(requestId) ?? []) channel.confirm();
        const waiting = [this.requestsByRequestId.get(requestId)?.sequence, ...[...(this.subscriptions.get(requestId) ?? [])].map((c) => c.sequence)];
        // A gap found while this replay ran and not filled by it: ask once more.
        if (attempt.followUp && waiting.some((sequence) => sequence?.waiting === true)) {
          this.resume(requestId);
          return;
        }
        // The replay is over: what is still missing is not in the log any more.
        this.requestsByRequestId.get(requestId)?.sequence.settle();
        for (const channel of [...(this.subscriptions.get(requestId) ?? [])]) channel.sequence.settle();
        this.dropEndedChannels(requestId);
      },
      (error: StreamerError) => {
        done();
        // Lost with the socket: the next open resumes (a closed client fails everything itself).
        if (error.code === 'DISCONNECTED') return;
        for (const channel of this.subscriptions.get(requestId) ?? []) channel.fail(error);
        this.subscriptions.delete(requestId);
        const waiting = this.requestsByRequestId.get(requestId);
        if (waiting !== undefined && this.requests.get(waiting.id) === waiting && !waiting.abandoned) {
          waiting.dispose();
          this.forget(waiting);
          waiting.reject(error);
        }
      },
    );
  }

  private dropEndedChannels(requestId: string): void {
    const channels = this.subscriptions.get(requestId);
    if (channels === undefined) return;
    for (const channel of channels) if (channel.isEnded) channels.delete(channel);
    if (channels.size === 0) this.subscriptions.delete(requestId);
  }

  private async unsubscribeChannel(channel: SubscriptionChannel<unknown>): Promise<void> {
    const channels = this.subscriptions.get(channel.requestId);
    channels?.delete(channel);
    if (channels !== undefined && channels.size > 0) return;
    this.subscriptions.delete(channel.requestId);
    // The request itself still wants its updates when this client awaits it.
    if (this.requestsByRequestId.has(channel.requestId) || this.state !== 'open') return;
    await this.call('unsubscribe', { requestId: channel.requestId }, 'unsubscribed', true).catch(() => {});
  }

  private handleOpen(): void {
    // Resume first, so nothing the server sends for running requests is missed.
    this.resuming.clear();
    for (const requestId of new Set([...this.requestsByRequestId.keys(), ...this.subscriptions.keys()])) this.resume(requestId);
    const queued = this.outbox;
    this.outbox = [];
    for (const outgoing of queued) this.transmit(outgoing);
    for (const waiter of this.readyWaiters.splice(0)) waiter.resolve();
    invokeListener(this.options.onConnect);
  }

  /** A socket closed: settle what cannot survive it, keep what a resubscribe will resume. */
  private handleSocketLost(): void {
    this.resuming.clear();
    const resendRequests: OutgoingFrame[] = [];
    for (const entry of [...this.requests.values()]) {
      if (!entry.sent) continue; // Still queued: goes out on the next connection.
      if (entry.abandoned) {
        this.forget(entry);
        continue;
      }
      if (entry.requestId === undefined && (entry.options.resendOnReconnect ?? true)) {
        // Sent but not acknowledged: the server may or may not have it. Sent again with the same
        // idempotency key, it answers with the request it already started, if it did.
        entry.sent = false;
        resendRequests.push({ id: entry.id, frame: entry.frame, onSent: () => (entry.sent = true) });
        continue;
      }
      if (entry.requestId === undefined) {
        // Sent but not acknowledged, and the caller asked not to resend: only it can decide to retry.
        entry.dispose();
        this.forget(entry);
        entry.reject(
          new StreamerError('DISCONNECTED', `Connection lost before "${entry.action}" was acknowledged; it may or may not have run`, {
            details: { action: entry.action, id: entry.id },
          }),
        );
      }
    }
    // Built-in calls are idempotent: send them again on the next connection,
    // except subscribes, which handleOpen renews for every live request and subscription.
    const queuedIds = new Set(this.outbox.map((o) => o.id));
    const resend: OutgoingFrame[] = [];
    for (const [id, control] of [...this.controls]) {
      if (control.expect === 'subscribed') {
        this.controls.delete(id);
        this.outbox = this.outbox.filter((o) => o.id !== id);
        control.reject(new StreamerError('DISCONNECTED', 'Connection lost while subscribing'));
      } else if (!queuedIds.has(id)) {
        resend.push({ id, frame: control.frame });
      }
    }
    this.outbox = [...resend, ...resendRequests, ...this.outbox];
  }

  private handleFatal(error: StreamerError): void {
    this.fatalError = error;
    this.failEverything(error);
    invokeListener(this.options.onError, error);
  }

  private failEverything(error: StreamerError): void {
    for (const entry of this.requests.values()) {
      entry.dispose();
      if (!entry.abandoned) entry.reject(error);
    }
    this.requests.clear();
    this.requestsByRequestId.clear();
    for (const control of this.controls.values()) control.reject(error);
    this.controls.clear();
    for (const channels of this.subscriptions.values()) for (const channel of channels) channel.fail(error);
    this.subscriptions.clear();
    this.outbox = [];
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(error);
  }

  private handleMessage(message: ServerMessage): void {
    if (message.type === 'broadcast') {
      invokeListener(this.options.onBroadcast, message.topic, message.data as unknown);
      return;
    }
    if (message.id === null) {
      if (message.type === 'error' && isWireError(message.error)) {
        invokeListener(this.options.onError, StreamerError.fromWire(message.error));
      }
      return;
    }
    const control = this.controls.get(message.id);
    // A replay (`subscribe` with `afterSeq`) carries the subscribe's id: it is about the request, not the call's reply.
    const aboutRequest = (message.type === 'progress' || message.type === 'result' || message.type === 'error') && typeof message.requestId === 'string';
    if (control !== undefined && !aboutRequest) {
      this.controls.delete(message.id);
      if (message.type === 'error') control.reject(errorFrom(message));
      else if (message.type === control.expect) control.resolve(message);
      else control.reject(new StreamerError('INTERNAL_ERROR', `Unexpected reply "${message.type}" to a call expecting "${control.expect}"`));
      return;
    }
    if (message.type !== 'ack' && message.type !== 'progress' && message.type !== 'result' && message.type !== 'error') return;
    const requestId = typeof message.requestId === 'string' ? message.requestId : undefined;
    const entry = this.requests.get(message.id) ?? (requestId === undefined ? undefined : this.requestsByRequestId.get(requestId));
    if (entry !== undefined) this.updateRequest(entry, message, requestId);
    if (requestId !== undefined && message.type !== 'ack') {
      for (const channel of [...(this.subscriptions.get(requestId) ?? [])]) channel.deliver(message);
      this.dropEndedChannels(requestId);
    }
  }

  private updateRequest(entry: PendingRequest, message: Extract<ServerMessage, { type: 'ack' | 'progress' | 'result' | 'error' }>, requestId: string | undefined): void {
    if (requestId !== undefined && entry.requestId === undefined) {
      // Learned from the ack, or from progress that overtook it.
      entry.requestId = requestId;
      this.requestsByRequestId.set(requestId, entry);
      if (entry.abandoned) {
        this.sendCancel(requestId);
        this.forget(entry);
        return;
      }
      invokeListener(entry.options.onAccepted, requestId);
    }
    if (entry.abandoned) {
      if (message.type === 'result' || message.type === 'error') this.forget(entry);
      return;
    }
    if (message.type === 'ack') return;
    if (message.requestId === undefined) {
      // Sync: the one final message, nothing to order.
      this.settleRequest(entry, message);
      return;
    }
    if (entry.sequence.offer(message)) this.resume(message.requestId);
  }

  /** The request's next event, in order. */
  private settleRequest(entry: PendingRequest, message: RequestEvent): void {
    if (this.requests.get(entry.id) !== entry || entry.abandoned) return;
    switch (message.type) {
      case 'progress':
        invokeListener(entry.options.onProgress, message as ProgressMessage);
        return;
      case 'result':
        entry.dispose();
        this.forget(entry);
        entry.resolve(message.data);
        return;
      case 'error':
        entry.dispose();
        this.forget(entry);
        entry.reject(errorFrom(message));
        return;
    }
  }
}

function errorFrom(message: ErrorMessage): StreamerError {
  if (isWireError(message.error)) return StreamerError.fromWire(message.error);
  return new StreamerError('INTERNAL_ERROR', 'The server sent an error without a usable description', { details: { error: message.error as unknown } });
}

function isWireError(value: unknown): value is ErrorMessage['error'] {
  const error = value as { code?: unknown; message?: unknown } | null;
  return error !== null && typeof error === 'object' && typeof error.code === 'string' && typeof error.message === 'string';
}

function cancelledError(reason: unknown): StreamerError {
  return new StreamerError('CANCELLED', 'The request was aborted by the caller', { cause: reason });
}

function frameTooLarge(frame: string): StreamerError | null {
  // Cheap bound first: a UTF-16 code unit is at most 3 UTF-8 bytes.
  if (frame.length * 3 <= MAX_MESSAGE_BYTES) return null;
  const bytes = new TextEncoder().encode(frame).length;
  if (bytes <= MAX_MESSAGE_BYTES) return null;
  return new StreamerError('PAYLOAD_TOO_LARGE', `The request message is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}`, {
    details: { sizeBytes: bytes, limitBytes: MAX_MESSAGE_BYTES },
  });
}

/** A fresh idempotency key: a random UUID where the platform has one (browsers, Node ≥ 19). */
function randomKey(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string; getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (crypto?.randomUUID !== undefined) return crypto.randomUUID();
  const bytes = crypto?.getRandomValues !== undefined ? crypto.getRandomValues(new Uint8Array(16)) : Uint8Array.from({ length: 16 }, () => Math.floor(Math.random() * 256));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function randomSuffix(): string {
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (crypto?.getRandomValues !== undefined) {
    return Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(36).padStart(2, '0')).join('').slice(0, 8);
  }
  return Math.random().toString(36).slice(2, 10);
}
