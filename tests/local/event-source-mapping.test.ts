import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { REQUEST_STREAM_MAPPING, type StreamMappingShape } from '../../functions/core/cloud-shapes';
import { InMemoryDeadLetters } from '../../local/dead-letters';
import { StreamEventSourceMapping } from '../../local/event-source-mapping';
import { errorPayload } from '../../local/lambda-container-protocol';
import type { InvocationOutcome } from '../../local/lambda-containers';

const SHARD = 'shardId-00000001-aaaa';
const STREAM = 'arn:aws:dynamodb:ddblocal:000000000000:table/streamer-local-requests/stream/2024-01-01T00:00:00.000';
const NOW_SECONDS = 1_700_000_000;

let sequence = 100;
function queued(id: string, options: { createdSecondsAgo?: number; status?: string } = {}): DynamoDBRecord {
  sequence += 1;
  return {
    eventID: `e-${id}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: STREAM,
    dynamodb: {
      ApproximateCreationDateTime: NOW_SECONDS - (options.createdSecondsAgo ?? 0),
      Keys: { request_id: { S: id } },
      NewImage: { request_id: { S: id }, status: { S: options.status ?? 'queued' } },
      SequenceNumber: String(sequence).padStart(21, '0'),
      SizeBytes: 40,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const idsOf = (event: DynamoDBStreamEvent): string[] => event.Records.map((record) => record.dynamodb!.Keys!.request_id!.S!);
const ok = (result?: unknown): InvocationOutcome => ({ ok: true, result, requestId: 'req' });
const thrown = (message: string): InvocationOutcome => ({ ok: false, error: errorPayload(new Error(message)), requestId: 'req' });

function harness(overrides: Partial<StreamMappingShape>, processor: (event: DynamoDBStreamEvent) => InvocationOutcome) {
  const mapping: StreamMappingShape = { ...REQUEST_STREAM_MAPPING, parallelizationFactor: 1, ...overrides };
  const batches: string[][] = [];
  const deadLetters = new InMemoryDeadLetters();
  const esm = new StreamEventSourceMapping({
    mapping,
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:streamer-local-processor',
    invoke: async (event) => {
      batches.push(idsOf(event));
      return processor(event);
    },
    deadLetters,
    retryDelayMs: () => 0,
    now: () => NOW_SECONDS * 1000,
  });
  return { esm, batches, deadLetters };
}

describe('the stream event source mapping', () => {
  it('sends batches of at most batchSize records, in stream order', async () => {
    const { esm, batches } = harness({ batchSize: 2 }, () => ok());
    esm.enqueue(SHARD, STREAM, ['a', 'b', 'c', 'd', 'e'].map((id) => queued(id)));
    await esm.idle();
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('never invokes the processor for records the filter rejects', async () => {
    const { esm, batches } = harness({}, () => ok());
    esm.enqueue(SHARD, STREAM, [queued('a', { status: 'processing' }), queued('b'), queued('c', { status: 'completed' })]);
    await esm.idle();
    expect(batches).toEqual([['b']]);
    expect(esm.isShardDrained(SHARD)).toBe(true);
  });

  it('checkpoints before the first reported item failure and retries from it', async () => {
    let calls = 0;
    const { esm, batches, deadLetters } = harness({}, (event) => {
      calls += 1;
      if (calls > 1) return ok({ batchItemFailures: [] });
      const failed = event.Records.filter((record) => ['c', 'e'].includes(record.dynamodb!.Keys!.request_id!.S!));
      return ok({ batchItemFailures: failed.map((record) => ({ itemIdentifier: record.dynamodb!.SequenceNumber! })) });
    });
    esm.enqueue(SHARD, STREAM, ['a', 'b', 'c', 'd', 'e'].map((id) => queued(id)));
    await esm.idle();
    expect(batches).toEqual([['a', 'b', 'c', 'd', 'e'], ['c', 'd', 'e']]);
    expect(deadLetters.entries).toHaveLength(0);
  });

  it('treats a failure with an unknown item identifier as a failure of the whole batch', async () => {
    let calls = 0;
    const { esm, batches } = harness({ bisectBatchOnFunctionError: false }, () => {
      calls += 1;
      return calls === 1 ? ok({ batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] }) : ok();
    });
    esm.enqueue(SHARD, STREAM, [queued('a'), queued('b')]);
    await esm.idle();
    expect(batches).toEqual([['a', 'b'], ['a', 'b']]);
  });

  it('bisects a failing batch until the poison record is alone, then dead-letters it after the retries', async () => {
    const { esm, batches, deadLetters } = harness({ maximumRetryAttempts: 2 }, (event) =>
      idsOf(event).includes('c') ? thrown('poison') : ok(),
    );
    esm.enqueue(SHARD, STREAM, ['a', 'b', 'c', 'd'].map((id) => queued(id)));
    await esm.idle();

    // [a b c d] fails → [a b] ok, [c d] fails → [c] fails (+2 retries) → discarded, [d] ok.
    expect(batches).toEqual([['a', 'b', 'c', 'd'], ['a', 'b'], ['c', 'd'], ['c'], ['c'], ['c'], ['d']]);
    expect(deadLetters.entries).toHaveLength(1);
    const [entry] = deadLetters.entries;
    expect(entry!.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(entry!.requestContext.approximateInvokeCount).toBe(5);
    expect(entry!.responseContext.functionError).toBe('Unhandled');
    expect(entry!.DDBStreamBatchInfo).toMatchObject({ shardId: SHARD, streamArn: STREAM, batchSize: 1 });
    expect(entry!._local.records.map((record) => record.dynamodb!.Keys!.request_id!.S)).toEqual(['c']);
    expect(entry!._local.lastError).toContain('poison');
  });

  it('retries a failing batch whole when bisecting is off, then discards it', async () => {
    const { esm, batches, deadLetters } = harness({ bisectBatchOnFunctionError: false, maximumRetryAttempts: 1 }, () => thrown('down'));
    esm.enqueue(SHARD, STREAM, [queued('a'), queued('b')]);
    await esm.idle();
    expect(batches).toEqual([['a', 'b'], ['a', 'b']]);
    expect(deadLetters.entries[0]!.DDBStreamBatchInfo.batchSize).toBe(2);
    expect(deadLetters.entries[0]!.DDBStreamBatchInfo.startSequenceNumber).toBe(queuedSequence(deadLetters, 0));
  });

  it('discards records older than maximumRecordAgeSeconds without invoking the processor', async () => {
    const { esm, batches, deadLetters } = harness({ maximumRecordAgeSeconds: 60 }, () => ok());
    esm.enqueue(SHARD, STREAM, [queued('old', { createdSecondsAgo: 61 }), queued('new', { createdSecondsAgo: 5 })]);
    await esm.idle();
    expect(batches).toEqual([['new']]);
    expect(deadLetters.entries.map((entry) => entry.requestContext.condition)).toEqual(['RecordAgeExceeded']);
    expect(deadLetters.entries[0]!.requestContext.approximateInvokeCount).toBe(0);
  });

  it('keeps one item’s changes in order while spreading items over parallel lanes', async () => {
    const seen: string[] = [];
    const { esm } = harness({ parallelizationFactor: 4, batchSize: 1 }, (event) => {
      seen.push(`${idsOf(event)[0]}:${event.Records[0]!.eventName}`);
      return ok();
    });
    const records: DynamoDBRecord[] = [];
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) records.push(queued(id));
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) records.push({ ...queued(id), eventName: 'MODIFY' });
    esm.enqueue(SHARD, STREAM, records);
    await esm.idle();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) {
      expect(seen.indexOf(`${id}:INSERT`)).toBeLessThan(seen.indexOf(`${id}:MODIFY`));
    }
    expect(seen).toHaveLength(12);
  });

  it('blocks the records behind a slow batch in the same lane (no hidden parallelism)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    const mapping: StreamMappingShape = { ...REQUEST_STREAM_MAPPING, parallelizationFactor: 1, batchSize: 1 };
    const esm = new StreamEventSourceMapping({
      mapping,
      functionArn: 'arn',
      invoke: async (event) => {
        started.push(idsOf(event)[0]!);
        if (idsOf(event)[0] === 'slow') await gate;
        return ok();
      },
      deadLetters: new InMemoryDeadLetters(),
      now: () => NOW_SECONDS * 1000,
    });
    esm.enqueue(SHARD, STREAM, [queued('slow'), queued('next')]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(started).toEqual(['slow']);
    release();
    await esm.idle();
    expect(started).toEqual(['slow', 'next']);
  });
});

function queuedSequence(deadLetters: InMemoryDeadLetters, index: number): string {
  return deadLetters.entries[index]!._local.records[0]!.dynamodb!.SequenceNumber!;
}
