/**
 * Numbers a run's progress messages and logs each one for replay. Numbers
 * go on across runs (a retry or a continuation starts after the last logged
 * entry), so `seq` identifies one message of the request for good and a
 * client can ask for everything after the last one it saw.
 */
import { PROGRESS_LOG_LIMITS, encodeLogEntry } from '../progress/progress-log';
import type { ProgressUpdate } from '../progress/progress-batcher';
import type { RequestRecord } from '../stores/records';
import type { StreamerDeps } from './deps';
import { describe } from './describe-error';

export class ProgressNumbering {
  private seq = 0;

  constructor(
    private readonly deps: StreamerDeps,
    private readonly request: RequestRecord,
    /** The handler's `progressLog`: false numbers messages without logging them. */
    private readonly logged: boolean,
  ) {}

  /** The `seq` of the last message numbered (0 before the first). */
  get last(): number {
    return this.seq;
  }

  /**
   * Finds where this run's numbers start. A request's first run starts at 1
   * without a read; any later run reads the log, since a run that crashed
   * never stored its last number. A handler without a log goes on from the
   * number its previous run stored when it gave the request back (a retry,
   * a continuation); after a crash, its clients may drop a few messages as
   * repeats.
   */
  async start(): Promise<void> {
    const firstRun = this.request.attempts <= 1 && (this.request.continuations ?? 0) === 0;
    if (firstRun) return;
    const stored = this.request.progress_seq ?? 0;
    this.seq = this.logged ? Math.max(stored, await this.deps.progressLog.lastSeq(this.request.request_id)) : stored;
  }

  next(): number {
    this.seq += 1;
    return this.seq;
  }

  /** Logs one message; a failed write is logged and skipped (the live message still goes out). */
  async log(seq: number, update: ProgressUpdate): Promise<void> {
    if (!this.logged) return;
    try {
      await this.deps.progressLog.append(
        // The entry expires with its request.
        { request_id: this.request.request_id, seq, entry: encodeLogEntry(update), ttl: this.request.ttl },
        PROGRESS_LOG_LIMITS.maxEntries,
      );
    } catch (error) {
      this.deps.logger.warn('Logging progress failed; a replay will lack this message', {
        requestId: this.request.request_id,
        seq,
        error: describe(error),
      });
    }
  }
}
