/**
 * Keeps a run's lease alive and watches for cancellation. The lease is
 * renewed every third of its length (storing the latest progress with it);
 * the cancel flag is polled more often with a cheap projected read. Either
 * signal aborts the run: `CANCELLED`, or `LeaseLostError` when another run
 * took over (this run must then write nothing).
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

export class RunLease {
  private readonly controller = new AbortController();
  private readonly timers: Array<ReturnType<typeof setInterval>> = [];
  private busy = false;

  constructor(
    private readonly deps: StreamerDeps,
    private readonly requestId: string,
    private readonly runId: string,
    private readonly currentProgress: () => ProgressUpdate,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  start(): void {
    const { leaseMs, cancelPollMs } = this.deps.settings;
    this.timers.push(setInterval(() => void this.renew(), Math.max(250, Math.floor(leaseMs / 3))));
    this.timers.push(setInterval(() => void this.pollCancel(), cancelPollMs));
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
  }

  private abort(reason: StreamerError): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    this.stop();
  }

  private async renew(): Promise<void> {
    if (this.controller.signal.aborted) return;
    const now = this.deps.clock.now();
    const progress = this.currentProgress();
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
    } catch (error) {
      this.deps.logger.debug('Cancel poll failed', { requestId: this.requestId, error: describe(error) });
    } finally {
      this.busy = false;
    }
  }
}
