/**
 * Keeps a run's lease alive and watches for cancellation. The lease is
 * renewed every third of its length (storing the latest progress with it),
 * and its conditional write returns the cancel flag. Between renewals the
 * cancel flag is read with a cheap projected read, soon after the run starts
 * and then less and less often (the gap doubles from `cancelPollMs`): a
 * short job is cancelled within about a second, and once the gap reaches the
 * renewal interval the renewal alone carries cancellation, so a long job
 * costs no read per second. Either signal aborts the run: `CANCELLED`, or
 * `LeaseLostError` when another run took over (this run must then write
 * nothing). Both also report the request's subscription version, so the run
 * re-reads its audience only when someone subscribed or unsubscribed.
 */
import { StreamerError } from '../errors';
import { storableProgressText } from '../large-results/inline-budget';
import type { ProgressUpdate } from '../progress/progress-batcher';
import type { StreamerDeps } from './deps';
import { describe } from './describe-error';

export class LeaseLostError extends StreamerError {
  constructor(requestId: string) {
    super('INTERNAL_ERROR', `Run of ${requestId} lost its lease to another run`);
    this.name = 'LeaseLostError';
  }
}

/** The gaps between cancel polls, ms: `first`, doubling, while they stay below `until` (the renewal interval). */
export function cancelPollGaps(first: number, until: number): number[] {
  const gaps: number[] = [];
  for (let gap = first; gap < until; gap *= 2) gaps.push(gap);
  return gaps;
}

export interface RunLeaseOptions {
  readonly currentProgress: () => ProgressUpdate;
  /** Every read or renewal of the request reports its subscription version here. */
  readonly onSubscriptionVersion?: (version: number) => void;
}

export class RunLease {
  private readonly controller = new AbortController();
  private readonly timers: Array<ReturnType<typeof setInterval>> = [];
  private pollTimer?: ReturnType<typeof setTimeout>;
  private busy = false;

  constructor(
    private readonly deps: StreamerDeps,
    private readonly requestId: string,
    private readonly runId: string,
    private readonly options: RunLeaseOptions,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  start(): void {
    const { leaseMs, cancelPollMs } = this.deps.settings;
    const renewEveryMs = Math.max(250, Math.floor(leaseMs / 3));
    this.timers.push(setInterval(() => void this.renew(), renewEveryMs));
    this.schedulePolls(cancelPollGaps(cancelPollMs, renewEveryMs));
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  private schedulePolls(gaps: readonly number[]): void {
    const [gap, ...rest] = gaps;
    if (gap === undefined) return;
    this.pollTimer = setTimeout(() => {
      void this.pollCancel();
      if (!this.controller.signal.aborted) this.schedulePolls(rest);
    }, gap);
  }

  private abort(reason: StreamerError): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    this.stop();
  }

  private async renew(): Promise<void> {
    if (this.controller.signal.aborted) return;
    const now = this.deps.clock.now();
    const progress = this.options.currentProgress();
    try {
      const outcome = await this.deps.requests.heartbeat({
        requestId: this.requestId,
        runId: this.runId,
        now,
        leaseExpiresAt: now + this.deps.settings.leaseMs,
        progress: progress.progress,
        message: storableProgressText(progress.message),
      });
      if (!outcome.held) this.abort(new LeaseLostError(this.requestId));
      else if (outcome.cancelRequested) this.abort(new StreamerError('CANCELLED', 'Cancelled by the client'));
      else this.options.onSubscriptionVersion?.(outcome.subscriptionVersion);
    } catch (error) {
      // A failed renewal is retried at the next tick; the lease outlives two missed ticks.
      this.deps.logger.warn('Lease renewal failed', { requestId: this.requestId, error: describe(error) });
    }
  }

  private async pollCancel(): Promise<void> {
    if (this.busy || this.controller.signal.aborted) return;
    this.busy = true;
    try {
      const control = await this.deps.requests.readRunControl(this.requestId);
      if (!control || control.runId !== this.runId || control.status !== 'processing') this.abort(new LeaseLostError(this.requestId));
      else if (control.cancelRequested) this.abort(new StreamerError('CANCELLED', 'Cancelled by the client'));
      else this.options.onSubscriptionVersion?.(control.subscriptionVersion);
    } catch (error) {
      this.deps.logger.debug('Cancel poll failed', { requestId: this.requestId, error: describe(error) });
    } finally {
      this.busy = false;
    }
  }
}
