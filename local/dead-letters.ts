/**
 * The event source mapping's on-failure destination. On AWS it is an SQS
 * queue or SNS topic receiving an invocation record (metadata about the
 * discarded batch, not the records); locally it is a JSONL file in the
 * runtime's data directory, served at `GET /_local/dead-letters`. Each line
 * is the AWS invocation record plus a `_local` field carrying the discarded
 * records themselves and the last error, for debugging.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DynamoDBRecord } from 'aws-lambda';

export type DiscardCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/** The invocation record Lambda sends to an on-failure destination for a DynamoDB stream batch. */
export interface StreamFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: DiscardCondition;
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: string;
    readonly functionError?: string;
  };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
  readonly _local: {
    readonly records: readonly DynamoDBRecord[];
    readonly lastError?: string;
  };
}

export interface DeadLetterSink {
  record(entry: StreamFailureRecord): void;
}

export class DeadLetterFile implements DeadLetterSink {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Starts an empty file (an in-memory run: the records the old entries refer to are gone). */
  reset(): void {
    writeFileSync(this.path, '');
  }

  record(entry: StreamFailureRecord): void {
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`);
  }

  list(): StreamFailureRecord[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as StreamFailureRecord);
  }
}

/** Keeps entries in memory (tests of the mapping logic). */
export class InMemoryDeadLetters implements DeadLetterSink {
  readonly entries: StreamFailureRecord[] = [];

  record(entry: StreamFailureRecord): void {
    this.entries.push(entry);
  }
}
