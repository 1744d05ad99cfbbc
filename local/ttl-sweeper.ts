/**
 * DynamoDB's Time to Live, which DynamoDB Local accepts but never acts on:
 * items whose TTL attribute (epoch seconds) is in the past are deleted
 * periodically, as the AWS background process would (AWS deletes within days,
 * usually minutes; readers must still treat expired items as gone).
 *
 * Deletes are conditional on the item still being expired, and each one is
 * remembered briefly so the stream record of the deletion can carry the
 * DynamoDB service identity, as TTL deletions do on AWS.
 */
import { DeleteItemCommand, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describeError, type Logger, silentLogger } from './log';
import type { LocalTable } from './tables';

export interface TtlSweeperOptions {
  readonly client: DynamoDBClient;
  readonly tables: readonly LocalTable[];
  readonly intervalMs: number;
  readonly now?: () => number;
  readonly log?: Logger;
}

const LEDGER_MS = 5 * 60_000;

export class TtlSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private readonly deletedByTtl = new Map<string, number>();
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly options: TtlSweeperOptions) {
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => void this.sweepOnce(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** True (once) when this item of `table` was just deleted by a sweep. */
  wasDeletedByTtl(table: string, keys: Record<string, unknown>): boolean {
    const ledgerKey = `${table}|${canonicalKeys(keys)}`;
    const seen = this.deletedByTtl.has(ledgerKey);
    this.deletedByTtl.delete(ledgerKey);
    return seen;
  }

  /** Deletes every expired item now; resolves with how many were deleted. */
  sweepOnce(): Promise<number> {
    if (!this.running) {
      this.running = this.sweep().finally(() => (this.running = undefined));
    }
    return this.running;
  }

  private async sweep(): Promise<number> {
    let deleted = 0;
    const nowMs = this.now();
    for (const [key, at] of this.deletedByTtl) if (nowMs - at > LEDGER_MS) this.deletedByTtl.delete(key);
    const nowSeconds = { N: String(Math.floor(nowMs / 1000)) };
    for (const table of this.options.tables) {
      if (!table.ttlAttribute) continue;
      const ttlAttribute = table.ttlAttribute;
      try {
        const keyNames = table.keyNames;
        let start: Record<string, AttributeValue> | undefined;
        do {
          const page = await this.options.client.send(
            new ScanCommand({
              TableName: table.name,
              FilterExpression: '#ttl < :now',
              ExpressionAttributeNames: { '#ttl': ttlAttribute },
              ExpressionAttributeValues: { ':now': nowSeconds },
              ExclusiveStartKey: start,
            }),
          );
          for (const item of page.Items ?? []) {
            const key = Object.fromEntries(keyNames.map((name) => [name, item[name]!]));
            const ledgerKey = `${table.name}|${canonicalKeys(key)}`;
            this.deletedByTtl.set(ledgerKey, this.now());
            try {
              await this.options.client.send(
                new DeleteItemCommand({
                  TableName: table.name,
                  Key: key,
                  ConditionExpression: '#ttl < :now',
                  ExpressionAttributeNames: { '#ttl': ttlAttribute },
                  ExpressionAttributeValues: { ':now': nowSeconds },
                }),
              );
              deleted += 1;
            } catch (error) {
              this.deletedByTtl.delete(ledgerKey);
              if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
            }
          }
          start = page.LastEvaluatedKey;
        } while (start);
      } catch (error) {
        this.log.warn(`TTL sweep of ${table.name} failed: ${describeError(error)}`);
      }
    }
    if (deleted > 0) this.log.debug(`TTL sweep deleted ${deleted} expired item(s)`);
    return deleted;
  }
}

/** Key attributes in a stable text form, comparable between the sweeper and stream records. */
function canonicalKeys(keys: Record<string, unknown>): string {
  return Object.keys(keys)
    .sort()
    .map((name) => `${name}=${JSON.stringify(keys[name])}`)
    .join('&');
}
