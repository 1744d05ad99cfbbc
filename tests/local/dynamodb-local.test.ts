/**
 * Against the real DynamoDB Local: tables are created from the cloud shapes,
 * stream records reach the mapping shaped as Lambda delivers them, and the
 * TTL sweeper deletes what DynamoDB would.
 */
import {
  DeleteItemCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { DynamoDBRecord } from 'aws-lambda';
import { ALL_TABLES, REQUESTS_TABLE } from '../../functions/core/cloud-shapes';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local';
import { DynamoDbStreamPoller } from '../../local/stream-poller';
import { ensureTables, type LocalTable } from '../../local/tables';
import { TtlSweeper } from '../../local/ttl-sweeper';
import { waitFor } from '../support/wait-for';

jest.setTimeout(30_000);

let dynamodb: DynamoDbLocal;
let client: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let tables: LocalTable[];

beforeAll(async () => {
  dynamodb = await startDynamoDbLocal();
  const config = { region: 'us-east-1', endpoint: dynamodb.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  client = new DynamoDBClient(config);
  streams = new DynamoDBStreamsClient(config);
  tables = await ensureTables(client);
});

afterAll(async () => {
  client?.destroy();
  streams?.destroy();
  await dynamodb?.stop();
});

const requestsTable = (): LocalTable => tables.find((table) => table.shape === REQUESTS_TABLE)!;

describe('tables created from ALL_TABLES', () => {
  it('have the keys, indexes, stream and TTL the cloud shapes declare', async () => {
    for (const shape of ALL_TABLES) {
      const table = tables.find((candidate) => candidate.shape === shape)!;
      const { Table } = await client.send(new DescribeTableCommand({ TableName: table.name }));
      expect(Table!.KeySchema![0]).toEqual({ AttributeName: shape.partitionKey.name, KeyType: 'HASH' });
      expect((Table!.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName).sort()).toEqual(
        shape.globalIndexes.map((index) => index.name).sort(),
      );
      expect(Table!.StreamSpecification?.StreamViewType).toBe(shape.stream);
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table.name }));
      expect(ttl.TimeToLiveDescription?.AttributeName).toBe(shape.ttlAttribute);
    }
  });

  it('are left alone when they already exist (a persisted run)', async () => {
    const again = await ensureTables(client);
    expect(again.map((table) => table.streamArn)).toEqual(tables.map((table) => table.streamArn));
  });
});

describe('stream records read from DynamoDB Local', () => {
  it('reach the consumer shaped like the records in a Lambda DynamoDBStreamEvent', async () => {
    const received: DynamoDBRecord[] = [];
    const table = requestsTable();
    const poller = new DynamoDbStreamPoller({
      client: streams,
      streamArn: table.streamArn!,
      region: 'us-east-1',
      startingPosition: 'LATEST',
      pollIntervalMs: 20,
      consumer: { enqueue: (_shard, _arn, records) => received.push(...records), isShardDrained: () => true, backlog: () => 0 },
    });
    await poller.start();
    try {
      const key = { request_id: { S: 'shape-1' } };
      await client.send(
        new PutItemCommand({
          TableName: table.name,
          Item: { ...key, status: { S: 'queued' }, created_at: { N: '1700000000000' }, blob: { B: Buffer.from([0, 1, 2]) } },
        }),
      );
      await client.send(
        new UpdateItemCommand({
          TableName: table.name,
          Key: key,
          UpdateExpression: 'SET #s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': { S: 'processing' } },
        }),
      );
      await client.send(new DeleteItemCommand({ TableName: table.name, Key: key }));
      await waitFor(() => received.length >= 3);
    } finally {
      await poller.stop();
    }

    const [insert, modify, remove] = received;
    expect(insert).toEqual({
      eventID: expect.any(String),
      eventName: 'INSERT',
      eventVersion: expect.any(String),
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: table.streamArn,
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: { request_id: { S: 'shape-1' } },
        NewImage: {
          request_id: { S: 'shape-1' },
          status: { S: 'queued' },
          created_at: { N: '1700000000000' },
          blob: { B: Buffer.from([0, 1, 2]).toString('base64') },
        },
        SequenceNumber: expect.stringMatching(/^\d+$/),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_IMAGE',
      },
    });
    expect(Number.isInteger(insert!.dynamodb!.ApproximateCreationDateTime)).toBe(true);
    expect(modify!.eventName).toBe('MODIFY');
    // The stream carries new images only (the processor reads nothing else).
    expect(modify!.dynamodb!.OldImage).toBeUndefined();
    expect(modify!.dynamodb!.NewImage!.status).toEqual({ S: 'processing' });
    expect(remove!.eventName).toBe('REMOVE');
    expect(remove!.dynamodb!.NewImage).toBeUndefined();
    expect(remove!.userIdentity).toBeUndefined();
    expect(JSON.parse(JSON.stringify(received))).toEqual(received);
  });
});

describe('the TTL sweeper', () => {
  it('deletes expired items, keeps live ones, and marks the deletion as the DynamoDB service’s', async () => {
    const table = requestsTable();
    const nowSeconds = Math.floor(Date.now() / 1000);
    const put = (id: string, ttl: number) =>
      client.send(new PutItemCommand({ TableName: table.name, Item: { request_id: { S: id }, status: { S: 'completed' }, ttl: { N: String(ttl) } } }));
    await put('expired-1', nowSeconds - 10);
    await put('alive-1', nowSeconds + 3600);

    const received: DynamoDBRecord[] = [];
    const sweeper = new TtlSweeper({ client, tables, intervalMs: 60_000 });
    const poller = new DynamoDbStreamPoller({
      client: streams,
      streamArn: table.streamArn!,
      region: 'us-east-1',
      startingPosition: 'LATEST',
      pollIntervalMs: 20,
      wasDeletedByTtl: (keys) => sweeper.wasDeletedByTtl(table.name, keys),
      consumer: { enqueue: (_shard, _arn, records) => received.push(...records), isShardDrained: () => true, backlog: () => 0 },
    });
    await poller.start();
    try {
      expect(await sweeper.sweepOnce()).toBe(1);
      const get = (id: string) => client.send(new GetItemCommand({ TableName: table.name, Key: { request_id: { S: id } } }));
      expect((await get('expired-1')).Item).toBeUndefined();
      expect((await get('alive-1')).Item).toBeDefined();
      await waitFor(() => received.some((record) => record.eventName === 'REMOVE'));
    } finally {
      await poller.stop();
      await sweeper.stop();
    }
    const removal = received.find((record) => record.eventName === 'REMOVE')!;
    expect(removal.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
  });
});

/** This machine's addresses that are not loopback (nor IPv6 link-local, which needs a scope to dial). */
function nonLoopbackAddresses(): string[] {
  const addresses = Object.values(networkInterfaces()).flatMap((entries) => entries ?? []);
  return addresses.filter((entry) => !entry.internal && !(entry.family === 'IPv6' && entry.address.toLowerCase().startsWith('fe80'))).map((entry) => entry.address);
}

/** Tries a TCP connection: `connected`, or the error code (`ECONNREFUSED`, …), or `timeout` after 3 s. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (outcome: string): void => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(3000, () => done('timeout'));
    socket.once('connect', () => done('connected'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

describe('DynamoDB Local’s listening socket', () => {
  const external = nonLoopbackAddresses();
  // Without a non-loopback address nothing off this machine can reach it anyway, and there is nothing to dial.
  const itWithExternal = external.length > 0 ? it : it.skip;

  itWithExternal(`refuses connections to this machine’s non-loopback addresses${external.length > 0 ? ` (${external.join(', ')})` : ' (skipped: this machine has no non-loopback address)'}`, async () => {
    const outcomes = await Promise.all(external.map(async (address) => [address, await tryConnect(address, dynamodb.port)] as const));
    expect(outcomes).toEqual(external.map((address) => [address, 'ECONNREFUSED']));
  });

  it('accepts connections on loopback', async () => {
    expect(await tryConnect('127.0.0.1', dynamodb.port)).toBe('connected');
  });
});
