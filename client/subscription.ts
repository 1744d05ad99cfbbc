/**
 * A subscription to one request's updates, readable as an async iterator,
 * through callbacks, or as one promise of the final result.
 */
import type { ErrorMessage, ProgressMessage, ResultMessage } from '../functions/core/protocol/messages';
import { StreamerError } from './errors';
import { invokeListener } from './listener';
import { ProgressSequence } from './progress-sequence';

/**
 * What a subscription yields: progress updates, then exactly one final
 * message (`result` or `error`), after which iteration ends.
 *
 * @example
 * for await (const event of client.subscribe(requestId)) {
 *   if (event.type === 'progress') console.log(event.progress);
 * }
 */
export type SubscriptionEvent = ProgressMessage | ResultMessage | ErrorMessage;

/**
 * Callbacks of {@link StreamerClient.subscribe}.
 *
 * @example
 * client.subscribe(requestId, { onProgress: (p) => bar.update(p.progress) });
 */
export interface SubscribeOptions {
  /** Called for each progress update, in `seq` order, never with a lower fraction than before. */
  readonly onProgress?: (progress: ProgressMessage) => void;
  /**
   * Replay the logged progress after this `seq` first (default 0: every
   * logged message, so a progress log rebuilt after a page reload is
   * complete). The server keeps the latest 1,000 messages of a request.
   */
  readonly afterSeq?: number;
}

/**
 * A live subscription to a request (made by this user, possibly from another
 * connection or an earlier session). It survives reconnects: the client
 * subscribes again on every new connection.
 *
 * @example
 * const subscription = client.subscribe(requestId, { onProgress: (p) => console.log(p.message) });
 * await subscription.ready;               // the server confirmed (`subscribed`)
 * const data = await subscription.result; // the request's result data, or a StreamerError
 */
export interface Subscription<Result = unknown> extends AsyncIterable<SubscriptionEvent> {
  /** The server's id of the watched request. */
  readonly requestId: string;
  /** Resolves when the server confirmed the subscription; rejects (e.g. `NOT_FOUND`) when it refused. */
  readonly ready: Promise<void>;
  /** Resolves with the result data, or rejects with the request's error (or the subscription's failure). */
  readonly result: Promise<Result>;
  /** Stops receiving updates (`unsubscribe` on the server); iteration ends and `result` stays unsettled. */
  unsubscribe(): Promise<void>;
}

/** Buffered events kept for an iterator that has not caught up; oldest progress is dropped beyond this. */
const MAX_BUFFERED_EVENTS = 1000;

/** The client's handle on a subscription: it pushes events in, the application reads them out. */
export class SubscriptionChannel<Result = unknown> implements Subscription<Result> {
  readonly ready: Promise<void>;
  readonly result: Promise<Result>;
  private resolveReady!: () => void;
  private rejectReady!: (error: StreamerError) => void;
  private resolveResult!: (data: Result) => void;
  private rejectResult!: (error: StreamerError) => void;
  private readonly buffer: SubscriptionEvent[] = [];
  private readonly waiting: Array<{ resolve: (r: IteratorResult<SubscriptionEvent>) => void; reject: (e: unknown) => void }> = [];
  private ended = false;
  private failure: StreamerError | null = null;
  /** Orders this subscription's messages by `seq`; the client replays what it misses. */
  readonly sequence: ProgressSequence;

  constructor(
    readonly requestId: string,
    private readonly options: SubscribeOptions,
    private readonly onUnsubscribe: (channel: SubscriptionChannel<Result>) => Promise<void>,
    /** Messages are missing: the client asks the server for a replay. */
    private readonly onGap: () => void = () => {},
  ) {
    this.sequence = new ProgressSequence((event) => this.emit(event), options.afterSeq ?? 0);
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.result = new Promise<Result>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    // Applications often await only one of these: an unobserved rejection must not crash the process.
    this.ready.catch(() => {});
    this.result.catch(() => {});
  }

  get isEnded(): boolean {
    return this.ended;
  }

  confirm(): void {
    this.resolveReady();
  }

  /** A progress or final message for this request; duplicates (e.g. after a resubscribe) are dropped, the rest ordered by `seq`. */
  deliver(event: SubscriptionEvent): void {
    if (this.ended) return;
    if (this.sequence.offer(event)) this.onGap();
  }

  private emit(event: SubscriptionEvent): void {
    if (this.ended) return;
    if (event.type === 'progress') {
      invokeListener(this.options.onProgress, event);
      this.push(event);
      return;
    }
    this.push(event);
    this.finish();
    this.resolveReady();
    if (event.type === 'result') this.resolveResult(event.data as Result);
    else this.rejectResult(StreamerError.fromWire(event.error));
  }

  /** The subscription itself failed (refused, or the client closed): iterators throw. */
  fail(error: StreamerError): void {
    if (this.ended) return;
    this.failure = error;
    this.rejectReady(error);
    this.rejectResult(error);
    this.finish();
  }

  async unsubscribe(): Promise<void> {
    if (this.ended) return;
    this.finish();
    await this.onUnsubscribe(this);
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionEvent> {
    return {
      next: () => {
        const event = this.buffer.shift();
        if (event !== undefined) return Promise.resolve({ value: event, done: false });
        if (this.failure !== null) return Promise.reject(this.failure);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
      },
      return: async () => {
        await this.unsubscribe();
        return { value: undefined, done: true };
      },
    };
  }

  private push(event: SubscriptionEvent): void {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value: event, done: false });
      return;
    }
    this.buffer.push(event);
    if (this.buffer.length > MAX_BUFFERED_EVENTS) {
      const oldestProgress = this.buffer.findIndex((e) => e.type === 'progress');
      if (oldestProgress >= 0) this.buffer.splice(oldestProgress, 1);
    }
  }

  private finish(): void {
    this.ended = true;
    for (const waiter of this.waiting.splice(0)) {
      if (this.failure !== null) waiter.reject(this.failure);
      else waiter.resolve({ value: undefined, done: true });
    }
  }
}
