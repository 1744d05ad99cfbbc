/**
 * Batches progress reports so a chatty handler costs few PostToConnection
 * calls: updates within a 200 ms window collapse into one message carrying
 * the latest state; a batch flushes early at 5 updates, at once when
 * progress first reaches 90 % (the "almost done" moment; later reports are
 * batched again), and on close. A report that comes when nothing was
 * sent for a whole window goes out at once, so the first sign of life (and
 * a slow job's every step) is not delayed. Progress never decreases.
 */
import type { JsonObject } from '../protocol/messages';
import type { ProgressReporter } from '../handlers/define-handler';

export interface ProgressUpdate {
  readonly progress: number;
  readonly message?: string;
  readonly metadata?: JsonObject;
}

export interface ProgressBatcherOptions {
  readonly windowMs?: number;
  readonly maxUpdatesPerBatch?: number;
  readonly flushAtFraction?: number;
}

export const PROGRESS_BATCHING = { windowMs: 200, maxUpdatesPerBatch: 5, flushAtFraction: 0.9 } as const;

export class ProgressBatcher implements ProgressReporter {
  private latest: ProgressUpdate = { progress: 0 };
  private pendingCount = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sending: Promise<void> = Promise.resolve();
  private closed = false;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private reachedFlushAt = false;
  private readonly windowMs: number;
  private readonly maxUpdates: number;
  private readonly flushAt: number;

  constructor(
    private readonly deliver: (update: ProgressUpdate) => Promise<void>,
    options: ProgressBatcherOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = options.windowMs ?? PROGRESS_BATCHING.windowMs;
    this.maxUpdates = options.maxUpdatesPerBatch ?? PROGRESS_BATCHING.maxUpdatesPerBatch;
    this.flushAt = options.flushAtFraction ?? PROGRESS_BATCHING.flushAtFraction;
  }

  /** The latest reported state (what a heartbeat stores). */
  get current(): ProgressUpdate {
    return this.latest;
  }

  report(progress: number, message?: string, metadata?: JsonObject): void {
    if (this.closed || typeof progress !== 'number' || Number.isNaN(progress)) return;
    const clamped = Math.min(1, Math.max(0, progress));
    this.latest = {
      progress: Math.max(this.latest.progress, clamped),
      ...(message !== undefined ? { message: String(message) } : this.latest.message !== undefined ? { message: this.latest.message } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
    };
    this.pendingCount++;
    const idle = this.timer === undefined && this.now() - this.lastSentAt >= this.windowMs;
    const crossedFlushAt = !this.reachedFlushAt && this.latest.progress >= this.flushAt;
    if (crossedFlushAt) this.reachedFlushAt = true;
    if (idle || crossedFlushAt || this.pendingCount >= this.maxUpdates) {
      this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.windowMs);
    }
  }

  /** Sends the pending batch now (as one message). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingCount === 0) return;
    this.pendingCount = 0;
    this.lastSentAt = this.now();
    const update = this.latest;
    // Chained so messages leave in report order even when a send is slow.
    this.sending = this.sending.then(() => this.deliver(update)).catch(() => undefined);
  }

  /** Flushes what is pending, waits for every send, and ignores later reports. */
  async close(): Promise<void> {
    this.flush();
    this.closed = true;
    await this.sending;
  }

  /** Drops what is pending without sending it (the run is ending in an error). */
  async discard(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingCount = 0;
    this.closed = true;
    await this.sending;
  }
}
