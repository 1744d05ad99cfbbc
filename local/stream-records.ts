/**
 * Turns records read through the DynamoDB Streams API (AWS SDK v3 shapes:
 * `Date`s, `Uint8Array`s) into the records Lambda puts in a
 * `DynamoDBStreamEvent` (epoch seconds, base64 binaries, the mapping's
 * `eventSourceARN`), the JSON a deployed function receives.
 */
import type { AttributeValue as StreamAttributeValue, _Record as StreamApiRecord } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';

export interface StreamRecordContext {
  readonly streamArn: string;
  readonly region: string;
  /** True when this REMOVE was a TTL expiry: Lambda then carries the DynamoDB service identity. */
  readonly deletedByTtl?: boolean;
}

export function toLambdaStreamRecord(record: StreamApiRecord, context: StreamRecordContext): DynamoDBRecord {
  const source = record.dynamodb ?? {};
  const shaped: DynamoDBRecord = {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: context.region,
    dynamodb: {
      ...(source.ApproximateCreationDateTime !== undefined && {
        ApproximateCreationDateTime: Math.floor(toEpochMs(source.ApproximateCreationDateTime) / 1000),
      }),
      ...(source.Keys && { Keys: toLambdaImage(source.Keys) }),
      ...(source.NewImage && { NewImage: toLambdaImage(source.NewImage) }),
      ...(source.OldImage && { OldImage: toLambdaImage(source.OldImage) }),
      SequenceNumber: source.SequenceNumber,
      SizeBytes: source.SizeBytes,
      StreamViewType: source.StreamViewType,
    },
    eventSourceARN: context.streamArn,
  };
  if (context.deletedByTtl) {
    shaped.userIdentity = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };
  }
  return shaped;
}

export function toLambdaImage(image: Record<string, StreamAttributeValue>): { [key: string]: AttributeValue } {
  const out: { [key: string]: AttributeValue } = {};
  for (const [name, value] of Object.entries(image)) out[name] = toLambdaAttribute(value);
  return out;
}

function toLambdaAttribute(value: StreamAttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttribute) };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  throw new TypeError(`Unknown DynamoDB attribute value ${JSON.stringify(value)}`);
}

function base64(bytes: Uint8Array | string): string {
  return typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('base64');
}

function toEpochMs(value: Date | number | string): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value < 1e12 ? value * 1000 : value;
  return Date.parse(value);
}

/** Stream sequence numbers are decimal strings longer than a double: compare them as such. */
export function compareSequenceNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
