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

  constructor(private readonly deps: StreamerDeps, private readonly request: RequestRecord) {}

  /** The `seq` of the last message numbered (0 before the first). */
  get last(): number {
    return this.seq;
  }

  /**
   * Finds where this run's numbers start. A request's first run starts at 1
   * without a read; any later run (retry, continuation, a recovered crash,
   * whose last numbers were never stored on the request) reads the log.
   */
  async start(): Promise<void> {
    const firstRun = this.request.attempts <= 1 && (this.request.continuations ?? 0) === 0;
    this.seq = firstRun ? 0 : await this.deps.progressLog.lastSeq(this.request.request_id);
  }

  next(): number {
    this.seq += 1;
    return this.seq;
  }

  /** Logs one message; a failed write is logged and skipped (the live message still goes out). */
  async log(seq: number, update: ProgressUpdate): Promise<void> {
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
