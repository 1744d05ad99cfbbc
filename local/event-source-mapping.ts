/**
 * The Lambda event source mapping for a DynamoDB stream, emulated from a
 * `StreamMappingShape` (the same object `infra/` deploys):
 *
 * - records that match no filter pattern are dropped (and so checkpointed)
 *   before batching;
 * - each shard is split into `parallelizationFactor` lanes by a hash of the
 *   item's keys, so one item's changes stay in order; each lane sends one
 *   batch at a time (head-of-line blocking within a lane is real, as on AWS);
 * - a batch holds at most `batchSize` records, sent at once
 *   (`maximumBatchingWindowSeconds` waits for more when set);
 * - a `{ batchItemFailures }` response (with `ReportBatchItemFailures`)
 *   checkpoints the records before the first failed one and retries from it;
 *   a thrown error or a malformed response fails the whole batch;
 * - a failed batch is split in two (`bisectBatchOnFunctionError`, which does
 *   not use up retries); a failing batch that cannot be split is retried up to
 *   `maximumRetryAttempts` times; records older than `maximumRecordAgeSeconds`
 *   are discarded; discarded batches go to the on-failure destination.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamMappingShape } from '../functions/core/cloud-shapes';
import type { DeadLetterSink, DiscardCondition } from './dead-letters';
import { matchesAnyPattern } from './filter-pattern';
import type { InvocationOutcome } from './lambda-containers';
import { describeError, type Logger, silentLogger } from './log';
import { compareSequenceNumbers } from './stream-records';

export interface StreamEventSourceMappingOptions {
  readonly mapping: StreamMappingShape;
  /** The target function's ARN, written into dead-letter records. */
  readonly functionArn: string;
  readonly invoke: (event: DynamoDBStreamEvent) => Promise<InvocationOutcome>;
  readonly deadLetters: DeadLetterSink;
  /** Pause before retrying a failed batch (retry 1, 2, …). */
  readonly retryDelayMs?: (retry: number) => number;
  readonly now?: () => number;
  readonly log?: Logger;
}

interface Batch {
  readonly records: readonly DynamoDBRecord[];
  /** Failed invocations that count against `maximumRetryAttempts`. */
  readonly retries: number;
  /** Every invocation that carried these records (for `approximateInvokeCount`). */
  readonly invokeCount: number;
  readonly lastError?: string;
}

interface Lane {
  readonly shardId: string;
  readonly streamArn: string;
  readonly pending: DynamoDBRecord[];
  /** Batches to send before taking new records: the halves of a bisected batch, a retry. */
  readonly retryQueue: Batch[];
  firstPendingAt: number;
  running: boolean;
  wake?: () => void;
}

type BatchVerdict =
  | { readonly kind: 'success' }
  | { readonly kind: 'partial'; readonly failedFrom: number; readonly error: string }
  | { readonly kind: 'failure'; readonly error: string; readonly functionError: boolean };

const defaultRetryDelay = (retry: number): number => Math.min(5000, 250 * 2 ** (retry - 1));

export class StreamEventSourceMapping {
  private readonly lanes = new Map<string, Lane>();
  private readonly drains = new Set<Promise<void>>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private stopped = false;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly retryDelayMs: (retry: number) => number;
  private readonly reportsItemFailures: boolean;

  constructor(private readonly options: StreamEventSourceMappingOptions) {
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.retryDelayMs = options.retryDelayMs ?? defaultRetryDelay;
    this.reportsItemFailures = options.mapping.functionResponseTypes.includes('ReportBatchItemFailures');
  }

  /** Hands records read from a shard (in stream order) to the mapping. */
  enqueue(shardId: string, streamArn: string, records: readonly DynamoDBRecord[]): void {
    if (this.stopped) return;
    const { filterPatterns, parallelizationFactor } = this.options.mapping;
    let filtered = 0;
    for (const record of records) {
      if (!matchesAnyPattern(record, filterPatterns)) {
        filtered += 1;
        continue;
      }
      const laneIndex = parallelizationFactor > 1 ? hashKeys(record) % parallelizationFactor : 0;
      const lane = this.lane(shardId, streamArn, laneIndex);
      if (lane.pending.length === 0) lane.firstPendingAt = this.now();
      lane.pending.push(record);
    }
    if (filtered > 0) this.log.debug(`${filtered} record(s) filtered out on ${shardId}`);
    for (const lane of this.lanes.values()) if (lane.shardId === shardId) this.drain(lane);
  }

  /** True when every record handed over for this shard has been processed or discarded. */
  isShardDrained(shardId: string): boolean {
    for (const lane of this.lanes.values()) {
      if (lane.shardId === shardId && (lane.running || lane.pending.length > 0 || lane.retryQueue.length > 0)) return false;
    }
    return true;
  }

  backlog(shardId: string): number {
    let count = 0;
    for (const lane of this.lanes.values()) {
      if (lane.shardId !== shardId) continue;
      count += lane.pending.length;
      for (const batch of lane.retryQueue) count += batch.records.length;
    }
    return count;
  }

  /** Resolves once every lane is empty (tests). */
  async idle(): Promise<void> {
    while (this.drains.size > 0) await Promise.allSettled([...this.drains]);
  }

  /** Stops sending batches; an invocation already running is left to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.resolve();
    }
    await Promise.race([Promise.allSettled([...this.drains]), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }

  private lane(shardId: string, streamArn: string, index: number): Lane {
    const key = `${shardId}#${index}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { shardId, streamArn, pending: [], retryQueue: [], firstPendingAt: 0, running: false };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private drain(lane: Lane): void {
    if (lane.running) {
      lane.wake?.();
      return;
    }
    lane.running = true;
    const drain = (async () => {
      try {
        while (!this.stopped && (lane.pending.length > 0 || lane.retryQueue.length > 0)) {
          await this.processNextBatch(lane);
        }
      } catch (error) {
        this.log.error(`event source mapping stopped on ${lane.shardId}: ${describeError(error)}`);
      } finally {
        lane.running = false;
      }
    })();
    this.drains.add(drain);
    void drain.finally(() => this.drains.delete(drain));
  }

  private async processNextBatch(lane: Lane): Promise<void> {
    let batch = lane.retryQueue.shift();
    if (!batch) {
      await this.waitForBatchingWindow(lane);
      batch = { records: lane.pending.splice(0, this.options.mapping.batchSize), retries: 0, invokeCount: 0 };
      if (lane.pending.length > 0) lane.firstPendingAt = this.now();
    }

    const { fresh, expired } = this.splitByAge(batch.records);
    if (expired.length > 0) this.discard(lane, { ...batch, records: expired }, 'RecordAgeExceeded');
    if (fresh.length === 0) return;
    batch = { ...batch, records: fresh };

    const outcome = await this.options.invoke({ Records: [...batch.records] });
    const invoked: Batch = { ...batch, invokeCount: batch.invokeCount + 1 };
    const verdict = this.judge(invoked.records, outcome);
    if (verdict.kind === 'success') return;

    if (verdict.kind === 'partial') {
      // Records before the first reported failure are checkpointed; the rest is retried as one batch.
      const rest = invoked.records.slice(verdict.failedFrom);
      this.log.debug(`partial batch failure on ${lane.shardId}: retrying ${rest.length} of ${invoked.records.length} record(s)`);
      await this.retryOrDiscard(lane, { ...invoked, records: rest, lastError: verdict.error });
      return;
    }

    const failed: Batch = { ...invoked, lastError: verdict.error };
    if (this.options.mapping.bisectBatchOnFunctionError && verdict.functionError && failed.records.length > 1) {
      // Splitting does not use up the retry quota (AWS documents this).
      const middle = Math.ceil(failed.records.length / 2);
      lane.retryQueue.unshift(
        { ...failed, records: failed.records.slice(0, middle) },
        { ...failed, records: failed.records.slice(middle) },
      );
      this.log.debug(`batch of ${failed.records.length} failed on ${lane.shardId} (${verdict.error}); bisecting`);
      return;
    }
    await this.retryOrDiscard(lane, failed);
  }

  private async retryOrDiscard(lane: Lane, failed: Batch): Promise<void> {
    const retries = failed.retries + 1;
    const { maximumRetryAttempts } = this.options.mapping;
    if (maximumRetryAttempts >= 0 && retries > maximumRetryAttempts) {
      this.discard(lane, failed, 'RetryAttemptsExhausted');
      return;
    }
    this.log.warn(`batch of ${failed.records.length} failed on ${lane.shardId} (${failed.lastError}); retry ${retries} of ${maximumRetryAttempts}`);
    lane.retryQueue.unshift({ ...failed, retries });
    await this.sleep(this.retryDelayMs(retries));
  }

  private judge(records: readonly DynamoDBRecord[], outcome: InvocationOutcome): BatchVerdict {
    if (!outcome.ok) {
      return { kind: 'failure', functionError: true, error: `${outcome.error.errorType}: ${outcome.error.errorMessage}` };
    }
    if (!this.reportsItemFailures) return { kind: 'success' };
    const response = outcome.result as Partial<DynamoDBBatchResponse> | null | undefined;
    const failures = response?.batchItemFailures;
    if (failures === undefined || failures === null || (Array.isArray(failures) && failures.length === 0)) {
      return { kind: 'success' };
    }
    const sequenceNumbers = records.map((record) => record.dynamodb?.SequenceNumber);
    let first = Number.POSITIVE_INFINITY;
    for (const failure of Array.isArray(failures) ? failures : [undefined]) {
      const id = failure?.itemIdentifier;
      const index = typeof id === 'string' && id !== '' ? sequenceNumbers.indexOf(id) : -1;
      // An empty, null or unknown identifier makes Lambda treat the whole batch as failed.
      if (index < 0) {
        return { kind: 'failure', functionError: false, error: `invalid batchItemFailures entry ${JSON.stringify(failure)}` };
      }
      first = Math.min(first, index);
    }
    return { kind: 'partial', failedFrom: first, error: `${failures.length} item failure(s) reported` };
  }

  private splitByAge(records: readonly DynamoDBRecord[]): { fresh: DynamoDBRecord[]; expired: DynamoDBRecord[] } {
    const maxAge = this.options.mapping.maximumRecordAgeSeconds;
    if (maxAge < 0) return { fresh: [...records], expired: [] };
    const nowSeconds = this.now() / 1000;
    const fresh: DynamoDBRecord[] = [];
    const expired: DynamoDBRecord[] = [];
    for (const record of records) {
      const created = record.dynamodb?.ApproximateCreationDateTime;
      (created !== undefined && nowSeconds - created > maxAge ? expired : fresh).push(record);
    }
    return { fresh, expired };
  }

  private discard(lane: Lane, batch: Batch, condition: DiscardCondition): void {
    const sorted = [...batch.records].sort((a, b) =>
      compareSequenceNumbers(a.dynamodb?.SequenceNumber ?? '', b.dynamodb?.SequenceNumber ?? ''),
    );
    const first = sorted[0]?.dynamodb;
    const last = sorted.at(-1)?.dynamodb;
    const arrival = (seconds: number | undefined): string =>
      new Date((seconds ?? this.now() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.log.warn(`discarding ${batch.records.length} record(s) from ${lane.shardId} (${condition}) to the on-failure destination`);
    this.options.deadLetters.record({
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.options.functionArn,
        condition,
        approximateInvokeCount: batch.invokeCount,
      },
      responseContext: {
        statusCode: 200,
        executedVersion: '$LATEST',
        ...(batch.lastError !== undefined && { functionError: 'Unhandled' }),
      },
      version: '1.0',
      timestamp: new Date(this.now()).toISOString(),
      DDBStreamBatchInfo: {
        shardId: lane.shardId,
        startSequenceNumber: first?.SequenceNumber ?? '',
        endSequenceNumber: last?.SequenceNumber ?? '',
        approximateArrivalOfFirstRecord: arrival(first?.ApproximateCreationDateTime),
        approximateArrivalOfLastRecord: arrival(last?.ApproximateCreationDateTime),
        batchSize: batch.records.length,
        streamArn: lane.streamArn,
      },
      _local: { records: batch.records, ...(batch.lastError !== undefined && { lastError: batch.lastError }) },
    });
  }

  private async waitForBatchingWindow(lane: Lane): Promise<void> {
    const windowMs = this.options.mapping.maximumBatchingWindowSeconds * 1000;
    while (!this.stopped && windowMs > 0 && lane.pending.length < this.options.mapping.batchSize) {
      const remaining = lane.firstPendingAt + windowMs - this.now();
      if (remaining <= 0) return;
      await new Promise<void>((resolve) => {
        lane.wake = resolve;
        void this.sleep(remaining).then(resolve);
      });
      lane.wake = undefined;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = {
        resolve,
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
      };
      this.sleepers.add(sleeper);
    });
  }
}

/** FNV-1a over the item's keys: the same item always lands in the same lane, keeping its changes ordered. */
function hashKeys(record: DynamoDBRecord): number {
  const keys = record.dynamodb?.Keys ?? {};
  const text = Object.keys(keys).sort().map((name) => `${name}=${JSON.stringify(keys[name])}`).join('&');
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
