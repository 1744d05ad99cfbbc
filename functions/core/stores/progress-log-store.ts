/**
 * The progress-log table: a request's progress messages by `seq` (the sort
 * key), so a replay is one ranged query (`seq > afterSeq`) and a new run
 * finds the last number with a one-item query.
 */
import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ProgressLogRecord } from './records';

export interface ProgressLogStore {
  /** Logs one entry and, once `keep` entries are logged, deletes the one that falls out of the bound. */
  append(record: ProgressLogRecord, keep: number): Promise<void>;
  /** The logged entries after `afterSeq`, oldest first, at most `limit`. */
  after(requestId: string, afterSeq: number, limit: number): Promise<ProgressLogRecord[]>;
  /** The highest logged `seq` (0 when nothing is logged). */
  lastSeq(requestId: string): Promise<number>;
}

export class DynamoProgressLogStore implements ProgressLogStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async append(record: ProgressLogRecord, keep: number): Promise<void> {
    const put = this.db.send(new PutCommand({ TableName: this.table, Item: record }));
    const dropped = record.seq - keep;
    if (dropped < 1) {
      await put;
      return;
    }
    await Promise.all([put, this.db.send(new DeleteCommand({ TableName: this.table, Key: { request_id: record.request_id, seq: dropped } }))]);
  }

  async after(requestId: string, afterSeq: number, limit: number): Promise<ProgressLogRecord[]> {
    const records: ProgressLogRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'request_id = :r AND seq > :after',
          ExpressionAttributeValues: { ':r': requestId, ':after': afterSeq },
          ConsistentRead: true,
          Limit: limit - records.length,
          ExclusiveStartKey: startKey,
        }),
      );
      records.push(...((out.Items ?? []) as ProgressLogRecord[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey && records.length < limit);
    return records;
  }

  async lastSeq(requestId: string): Promise<number> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'request_id = :r',
        ExpressionAttributeValues: { ':r': requestId },
        ProjectionExpression: 'seq',
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: 1,
      }),
    );
    return Number(out.Items?.[0]?.seq ?? 0);
  }
}
