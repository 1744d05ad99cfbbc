/**
 * Reads a table's stream through the real DynamoDB Streams API of DynamoDB
 * Local (DescribeStream, GetShardIterator, GetRecords), as Lambda's pollers
 * do, and hands the records, shaped as Lambda delivers them, to an
 * event source mapping.
 *
 * Shards are discovered periodically. A shard open at start is read from the
 * mapping's starting position; shards that appear later (a rollover) are read
 * from their beginning, and only once their parent shard has been read to the
 * end and fully processed, so an item's changes stay in order across shards.
 *
 * While the stream's source is known to be down (DynamoDB Local died and is
 * restarting), readers wait quietly instead of failing a call a second. When
 * it is back they go on with their iterator (DynamoDB Local's iterators
 * survive a restart on persisted data); one it rejects is replaced, after the
 * last record read or from the reader's starting position.
 */
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import type { StreamMappingShape } from '../functions/core/cloud-shapes';
import { describeError, type Logger, silentLogger } from './log';
import { toLambdaStreamRecord } from './stream-records';

export interface StreamRecordConsumer {
  enqueue(shardId: string, streamArn: string, records: readonly DynamoDBRecord[]): void;
  isShardDrained(shardId: string): boolean;
  /** Records of this shard waiting to be processed. */
  backlog(shardId: string): number;
}

export interface StreamPollerOptions {
  readonly client: DynamoDBStreamsClient;
  /** The stream in DynamoDB Local, which the poller reads. */
  readonly streamArn: string;
  /** The stream's ARN as AWS forms it (the manifest's), which records carry; DynamoDB Local's when absent. */
  readonly eventSourceArn?: string;
  readonly region: string;
  readonly startingPosition: StreamMappingShape['startingPosition'];
  readonly consumer: StreamRecordConsumer;
  /** Pause between polls of a shard that returned nothing (Lambda polls about 4 times a second; default 100 ms). */
  readonly pollIntervalMs?: number;
  /** How often to look for new shards (default 1 s). */
  readonly discoveryIntervalMs?: number;
  /** Tells whether a REMOVE of this item was a TTL expiry (so the record carries the service identity). */
  readonly wasDeletedByTtl?: (keys: Record<string, unknown>) => boolean;
  /** Readers stop fetching while this many records of theirs wait to be processed. */
  readonly maxBufferedRecords?: number;
  /** Why the stream's source is known to be down (its supervisor logged it), or `undefined` while it serves. */
  readonly sourceUnavailability?: () => string | undefined;
  readonly log?: Logger;
}

interface ShardReader {
  readonly shard: Shard;
  /** Where the reader started, and where a replaced iterator starts when no record was read yet. */
  readonly position: ShardIteratorType;
  done: boolean;
  lastSequenceNumber?: string;
}

const GET_RECORDS_LIMIT = 1000;

export class DynamoDbStreamPoller {
  private readonly readers = new Map<string, ShardReader>();
  private readonly loops = new Set<Promise<void>>();
  private readonly knownAtStart = new Set<string>();
  private discoveryTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly log: Logger;
  private readonly pollIntervalMs: number;

  constructor(private readonly options: StreamPollerOptions) {
    this.log = options.log ?? silentLogger;
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
  }

  /** Resolves once every shard open now has an iterator: a write after this is delivered. */
  async start(): Promise<void> {
    const shards = await this.describeShards();
    const open = shards.filter((shard) => shard.SequenceNumberRange?.EndingSequenceNumber === undefined);
    for (const shard of shards) this.knownAtStart.add(shard.ShardId!);
    await Promise.all(open.map((shard) => this.startReader(shard, this.options.startingPosition)));
    this.scheduleDiscovery();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.discoveryTimer);
    await Promise.race([Promise.allSettled([...this.loops]), sleep(2000)]);
  }

  private scheduleDiscovery(): void {
    if (this.stopped) return;
    this.discoveryTimer = setTimeout(() => {
      void this.discover().finally(() => this.scheduleDiscovery());
    }, this.options.discoveryIntervalMs ?? 1000);
  }

  private async discover(): Promise<void> {
    if (this.sourceDown()) return;
    try {
      for (const shard of await this.describeShards()) {
        const id = shard.ShardId!;
        if (this.readers.has(id) || this.knownAtStart.has(id)) continue;
        const parent = shard.ParentShardId ? this.readers.get(shard.ParentShardId) : undefined;
        // The child waits until its parent is read to the end and every record of it is processed.
        if (parent && !(parent.done && this.options.consumer.isShardDrained(parent.shard.ShardId!))) continue;
        this.log.info(`new stream shard ${id}${shard.ParentShardId ? ` (after ${shard.ParentShardId})` : ''}`);
        await this.startReader(shard, 'TRIM_HORIZON');
      }
    } catch (error) {
      if (!this.stopped) this.log.warn(`stream shard discovery failed: ${describeError(error)}`);
    }
  }

  private async describeShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const page = await this.options.client.send(
        new DescribeStreamCommand({ StreamArn: this.options.streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      shards.push(...(page.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return shards;
  }

  private async startReader(shard: Shard, position: ShardIteratorType): Promise<void> {
    const reader: ShardReader = { shard, position, done: false };
    this.readers.set(shard.ShardId!, reader);
    const iterator = await this.iterator(reader, position);
    const loop = this.readLoop(reader, iterator);
    this.loops.add(loop);
    void loop.finally(() => this.loops.delete(loop));
  }

  private async iterator(reader: ShardReader, position: ShardIteratorType): Promise<string | undefined> {
    const response = await this.options.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.options.streamArn,
        ShardId: reader.shard.ShardId!,
        ShardIteratorType: reader.lastSequenceNumber ? 'AFTER_SEQUENCE_NUMBER' : position,
        SequenceNumber: reader.lastSequenceNumber,
      }),
    );
    return response.ShardIterator;
  }

  private async readLoop(reader: ShardReader, firstIterator: string | undefined): Promise<void> {
    const shardId = reader.shard.ShardId!;
    let iterator = firstIterator;
    let outageSeen = false;
    while (!this.stopped && iterator) {
      if (this.sourceDown()) {
        outageSeen = true;
        await sleep(Math.max(this.pollIntervalMs, 250));
        continue;
      }
      if (this.options.consumer.backlog(shardId) >= (this.options.maxBufferedRecords ?? 10_000)) {
        await sleep(this.pollIntervalMs);
        continue;
      }
      try {
        const page = await this.options.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT }));
        const records = (page.Records ?? []).map((record) =>
          toLambdaStreamRecord(record, {
            streamArn: this.options.eventSourceArn ?? this.options.streamArn,
            region: this.options.region,
            deletedByTtl:
              record.eventName === 'REMOVE' && (this.options.wasDeletedByTtl?.(record.dynamodb?.Keys ?? {}) ?? false),
          }),
        );
        if (records.length > 0) {
          reader.lastSequenceNumber = records.at(-1)!.dynamodb!.SequenceNumber;
          this.options.consumer.enqueue(shardId, this.options.eventSourceArn ?? this.options.streamArn, records);
        }
        iterator = page.NextShardIterator;
        outageSeen = false;
        if (records.length === 0 && iterator) await sleep(this.pollIntervalMs);
      } catch (error) {
        if (this.stopped) return;
        // Down since the call went out: the supervisor has said so; wait for it quietly.
        if (this.sourceDown()) continue;
        const name = (error as { name?: string }).name;
        if (outageSeen && (error as { $fault?: string }).$fault === 'client') {
          this.log.info(`stream shard ${shardId}: the iterator from before the outage was refused (${name}); reading on from a new one`);
          outageSeen = false;
          iterator = await this.iterator(reader, reader.position).catch(() => iterator);
          continue;
        }
        if (name === 'ExpiredIteratorException' || name === 'TrimmedDataAccessException') {
          iterator = await this.iterator(reader, 'TRIM_HORIZON').catch(() => undefined);
          continue;
        }
        if (name === 'ResourceNotFoundException') {
          this.log.warn(`stream shard ${shardId} is gone`);
          break;
        }
        this.log.warn(`reading stream shard ${shardId} failed: ${describeError(error)}; retrying`);
        await sleep(Math.max(this.pollIntervalMs, 500));
      }
    }
    reader.done = true;
    if (!this.stopped) this.log.debug(`stream shard ${shardId} closed`);
  }

  private sourceDown(): boolean {
    return this.options.sourceUnavailability?.() !== undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
